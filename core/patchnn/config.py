"""Settings of the patch nearest-neighbour engine (GPNN, Granot et al., CVPR 2022).

:class:`PatchNNConfig` holds the algorithm's constants, with the published defaults where they
exist (7×7 patches, pyramid ratio 4/3, completeness α = 0.005 on mean squared distances in [0, 1],
noise σ = 0.75 in [0, 1] units, one grey channel at the coarsest level) and our own where speed
asks for them (iterations per level, approximate search above a size, PCA keys).
:class:`PreviewSettings` is what a user turns: the same four controls as a SinGAN sample.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from core.jobs import GanvasError

#: What the canvas, the gallery and the PNG metadata call images made by this engine.
ENGINE_NAME = "patch-NN preview"


@dataclass(frozen=True)
class PatchNNConfig:
    """Algorithm constants. Distances are mean squared differences per patch value in [0, 1] units.

    - ``min_size``: the coarsest level's shorter side. The public GPNN code uses 14 (its README says a
      coarsest side near the patch size copies the photo); we keep 21 px after measuring copies
      (docs/previews.md).
    - ``iters`` / ``coarse_iters``: replacement iterations per level (GPNN: 10; Efficient-GPNN runs 1 at
      the coarsest level because more iterations there drift back to the photo's own layout).
    - ``search``: ``"exact"`` (all pairs, tiled matmuls), ``"patchmatch"`` (approximate, PCA keys) or
      ``"auto"``: exact while a level has at most ``exact_max_pairs`` query×key pairs.
    - ``tile_elems``: the most distance values held at once by the exact search (memory bound).
    - ``weighted_vote`` / ``vote_bandwidth``: votes weighted by exp(−D / 2h²), h² = bandwidth × the median
      match distance. A narrow kernel (bandwidth 1) let each pixel's best match win and left hard,
      straight seams between copied pieces; 16 blends like uniform voting and still mutes bad matches.
    """

    patch_size: int = 7
    pyramid_ratio: float = 4.0 / 3.0
    min_size: int = 25
    max_size: int = 250
    alpha: float | None = 0.005
    noise_sigma: float = 2.0
    iters: int = 3
    coarse_iters: int = 1
    search: str = "auto"
    exact_max_pairs: int = 1_000_000
    tile_elems: int = 1 << 22
    pca_dims: int = 24
    pm_rounds: int = 2
    pm_random: int = 4
    weighted_vote: bool = True
    vote_bandwidth: float = 16.0

    def __post_init__(self) -> None:
        problems = []
        if self.patch_size < 3 or self.patch_size % 2 == 0:
            problems.append(f"patch_size must be odd and ≥ 3 (got {self.patch_size})")
        if not 1.05 <= self.pyramid_ratio <= 3.0:
            problems.append(f"pyramid_ratio must be in 1.05–3 (got {self.pyramid_ratio})")
        if self.min_size < self.patch_size + 2:
            problems.append(f"min_size must be at least patch_size + 2 = {self.patch_size + 2} (got {self.min_size})")
        if not self.min_size <= self.max_size <= 2048:
            problems.append(f"max_size must be in min_size–2048 (got {self.max_size})")
        if self.alpha is not None and self.alpha <= 0:
            problems.append(f"alpha must be positive or None (got {self.alpha})")
        if self.noise_sigma < 0:
            problems.append(f"noise_sigma must be ≥ 0 (got {self.noise_sigma})")
        if self.iters < 1 or self.coarse_iters < 1:
            problems.append(f"iters and coarse_iters must be ≥ 1 (got {self.iters}, {self.coarse_iters})")
        if self.search not in ("auto", "exact", "patchmatch"):
            problems.append(f"search must be auto, exact or patchmatch (got '{self.search}')")
        if self.tile_elems < 1024:
            problems.append(f"tile_elems must be ≥ 1024 (got {self.tile_elems})")
        if self.pca_dims < 0:
            problems.append(f"pca_dims must be ≥ 0 (0 = full patches; got {self.pca_dims})")
        if self.vote_bandwidth <= 0:
            problems.append(f"vote_bandwidth must be positive (got {self.vote_bandwidth})")
        if self.pm_rounds < 1 or self.pm_random < 0:
            problems.append(f"pm_rounds must be ≥ 1 and pm_random ≥ 0 (got {self.pm_rounds}, {self.pm_random})")
        if problems:
            raise GanvasError("Invalid patch-NN settings: " + "; ".join(problems) + ".")

    def with_(self, **changes: object) -> PatchNNConfig:
        return replace(self, **changes)


@dataclass(frozen=True)
class PreviewSettings:
    """A user's controls, meaning what SinGAN's mean.

    ``start_scale`` 0 is the coarsest level of the pyramid (new layouts); higher ones start from the
    photo downsampled to that level and keep its layout (the word is SinGAN's ``SampleSettings``'). ``diversity`` multiplies the noise. The multipliers retarget the
    output. Sample ``i`` of a batch uses ``seed + i``.
    """

    start_scale: int = 0
    diversity: float = 1.0
    width_scale: float = 1.0
    height_scale: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.diversity < 0:
            raise GanvasError(f"Diversity must be ≥ 0 (got {self.diversity}).")
        if not (0.1 <= self.width_scale <= 8 and 0.1 <= self.height_scale <= 8):
            raise GanvasError(f"Width and height multipliers must be in 0.1–8 "
                              f"(got {self.width_scale}, {self.height_scale}).")
        if self.start_scale < 0:
            raise GanvasError(f"Start scale must be ≥ 0 (got {self.start_scale}).")

    def to_metadata(self) -> dict[str, str]:
        """PNG text chunks: every control plus the engine's name, so a file says how it was made."""
        return {**{k: str(v) for k, v in asdict(self).items()}, "engine": ENGINE_NAME}
