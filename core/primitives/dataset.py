"""Primitives as a torch Dataset: images made on the fly in DataLoader workers, no disk needed.

Image ``i`` depends only on (config, seed, i), so shuffling, batch size and the number of
workers never change what the model sees for a given index.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from core.primitives.config import DEFAULT_PRESET, PrimitivesConfig, PrimitivesError, check_seed, preset
from core.primitives.export import parse_size
from core.primitives.synth import generate_indices


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 N×H×W×3 → float32 N×3×H×W in [-1, 1]."""
    t = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    return t.div_(127.5).sub_(1.0)


class PrimitivesDataset(Dataset):
    """``length`` Primitives images of ``size`` (int, 'WxH' or (h, w)) as float 3×H×W tensors in [-1, 1].

    Map-style, so it works with any sampler and any number of workers; ``__getitems__`` makes a
    whole batch in one call when the DataLoader asks for one.
    """

    def __init__(
        self,
        config: PrimitivesConfig | str = DEFAULT_PRESET,
        length: int = 10000,
        size: int | str | tuple[int, int] = 128,
        seed: int = 0,
    ) -> None:
        self.config = preset(config) if isinstance(config, str) else config
        if int(length) < 1:
            raise PrimitivesError(f"The dataset length must be at least 1, got {length}.")
        self.length = int(length)
        self.height, self.width = parse_size(size)
        self.seed = check_seed(seed)

    def __len__(self) -> int:
        return self.length

    def _check(self, index: int) -> int:
        i = int(index)
        if i < 0:
            i += self.length
        if not 0 <= i < self.length:
            raise IndexError(f"index {index} out of range for {self.length} images")
        return i

    def images(self, indices) -> np.ndarray:
        """uint8 N×H×W×3 for these indices (for previews and exports)."""
        return generate_indices(
            self.config, self.seed, [self._check(i) for i in indices], self.height, self.width
        )

    def __getitem__(self, index: int) -> torch.Tensor:
        return _to_tensor(self.images([index]))[0]

    def __getitems__(self, indices: list[int]) -> list[torch.Tensor]:
        return list(_to_tensor(self.images(indices)).unbind(0))


def worker_init(_worker_id: int) -> None:
    """DataLoader worker setup: one OpenCV thread per worker (the workers are the parallelism)."""
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def make_loader(
    dataset: PrimitivesDataset, batch_size: int = 32, workers: int = 2, shuffle: bool = True, seed: int = 0
) -> DataLoader:
    """A DataLoader with sensible settings for on-the-fly Primitives (persistent workers, 1 thread each).

    Workers are spawned, not forked: a fork inherits OpenCV's and Qt's thread pools mid-lock and
    can deadlock once the studio (or an earlier OpenCV call) has started them.
    """
    gen = torch.Generator().manual_seed(int(seed))
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=workers,
        worker_init_fn=worker_init if workers > 0 else None,
        persistent_workers=workers > 0,
        generator=gen,
        drop_last=False,
        multiprocessing_context="spawn" if workers > 0 else None,
    )
