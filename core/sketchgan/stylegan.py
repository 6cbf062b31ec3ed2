"""StyleGAN2 generator and residual discriminator in plain PyTorch (no custom CUDA ops).

Module names and parameter/buffer names follow rosinality's ``stylegan2-pytorch`` (the models
GANSketching fine-tunes), so a state_dict from there loads with ``load_state_dict`` as is. The
two CUDA kernels it compiles are replaced by their definitions: ``upfirdn2d`` (upsample, pad,
FIR-filter, downsample) is a zero-stuffing reshape plus a depthwise ``conv2d``, and the fused
leaky ReLU is ``leaky_relu(x + bias, 0.2) * sqrt(2)``.

Width is configurable: channels at resolution ``r`` are ``min(max_channels, 16384 * channel_multiplier / r)``,
which is rosinality's table for ``max_channels=512``; a small ``max_channels`` gives a CPU-sized model.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from core.jobs import GanvasError
from core.sketchgan import draws
from core.sketchgan.ops import (
    BLUR_KERNEL,
    SQRT2,
    Blur,
    FusedLeakyReLU,
    PixelNorm,
    Upsample,
    fused_leaky_relu,
)


@dataclass(frozen=True)
class StyleGANConfig:
    """Architecture of a generator/discriminator pair. Defaults are StyleGAN2 config-f at 256 px,
    as used by GANSketching (z 512, 8 mapping layers, channel multiplier 2)."""

    size: int = 256  # output resolution, a power of two from 32 to 1024
    style_dim: int = 512  # z and w dimension
    n_mlp: int = 8  # mapping network depth
    channel_multiplier: int = 2
    max_channels: int = 512  # cap on channels (512 in the paper; small for a CPU model)
    lr_mlp: float = 0.01  # equalized-lr multiplier of the mapping network (its lr is ×0.01)
    w_shift: bool = False  # an extra learnable shift after the mapping network (GANSketching's w_shift)

    def __post_init__(self) -> None:
        if self.size < 8 or self.size & (self.size - 1) or self.size > 1024:
            raise GanvasError(f"Model size {self.size} is not supported: use a power of two from 32 to 1024.")
        if self.style_dim < 1 or self.n_mlp < 1 or self.max_channels < 1:
            raise GanvasError("style_dim, n_mlp and max_channels must be positive.")

    def channels(self, res: int) -> int:
        return int(min(self.max_channels, 16384 * self.channel_multiplier // res))

    @property
    def log_size(self) -> int:
        return int(math.log2(self.size))

    @property
    def n_latent(self) -> int:
        """Number of w vectors the synthesis network consumes (one per modulated conv / toRGB pair)."""
        return self.log_size * 2 - 2

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> StyleGANConfig:
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in d.items() if k in names})


def training_threads(config: StyleGANConfig) -> int | None:
    """The CPU thread cap for training or tuning a model of this size: 1 when it is small (≤ 64 px, ≤ 64
    channels), where one thread measured 2.2× faster than two at 32 px and as fast at 64 px on a 2-core
    VM (the threads wait for each other more than they share: docs/singan.md ▸ CPU threads); else None."""
    return 1 if config.size <= 64 and config.max_channels <= 64 else None


# ---------------------------------------------------------------------------------------------
# Equalized learning-rate layers


class EqualConv2d(nn.Module):
    """Conv whose weights are stored N(0,1) and scaled by 1/sqrt(fan_in) at run time (equalized lr)."""

    def __init__(self, in_ch: int, out_ch: int, k: int, stride: int = 1, padding: int = 0, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(draws.randn(out_ch, in_ch, k, k))
        self.scale = 1 / math.sqrt(in_ch * k * k)
        self.stride = stride
        self.padding = padding
        self.bias = nn.Parameter(torch.zeros(out_ch)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, bias=self.bias, stride=self.stride, padding=self.padding)


class EqualLinear(nn.Module):
    """Linear layer with equalized lr; ``lr_mul`` scales this layer's effective learning rate."""

    def __init__(self, in_dim: int, out_dim: int, bias: bool = True, bias_init: float = 0.0, lr_mul: float = 1.0,
                 activation: str | None = None) -> None:
        super().__init__()
        self.weight = nn.Parameter(draws.randn(out_dim, in_dim).div_(lr_mul))
        self.bias = nn.Parameter(torch.zeros(out_dim).fill_(bias_init)) if bias else None
        self.activation = activation
        self.scale = (1 / math.sqrt(in_dim)) * lr_mul
        self.lr_mul = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias * self.lr_mul if self.bias is not None else None
        if self.activation:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), bias)
        return F.linear(x, self.weight * self.scale, bias=bias)


class ModulatedConv2d(nn.Module):
    """Conv whose weights are scaled per sample by a style (modulation) and renormalised (demodulation).

    x: N×in×H×W, style: N×style_dim -> N×out×H'×W' (H' = 2H when ``upsample``).
    Implemented as one grouped convolution over the batch.
    """

    def __init__(self, in_ch: int, out_ch: int, k: int, style_dim: int, demodulate: bool = True,
                 upsample: bool = False, downsample: bool = False, blur_kernel=BLUR_KERNEL) -> None:
        super().__init__()
        self.kernel_size = k
        self.in_channel = in_ch
        self.out_channel = out_ch
        self.upsample = upsample
        self.downsample = downsample
        if upsample:
            factor = 2
            p = (len(blur_kernel) - factor) - (k - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2 + factor - 1, p // 2 + 1), upsample_factor=factor)
        if downsample:
            factor = 2
            p = (len(blur_kernel) - factor) + (k - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2, p // 2))
        self.scale = 1 / math.sqrt(in_ch * k * k)
        self.padding = k // 2
        self.weight = nn.Parameter(draws.randn(1, out_ch, in_ch, k, k))
        self.modulation = EqualLinear(style_dim, in_ch, bias_init=1)
        self.demodulate = demodulate

    #: False = scale activations instead of weights (same maths, one shared-weight conv: faster on CPU
    #: and for training); True = rosinality's per-sample grouped conv.
    fused: bool = False

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        if not self.fused:
            return self._forward_unfused(x, style)
        n, cin, h, w = x.shape
        k, cout = self.kernel_size, self.out_channel
        s = self.modulation(style).view(n, 1, cin, 1, 1)
        weight = self.scale * self.weight * s
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8).view(n, cout, 1, 1, 1)
        if self.upsample:
            x = x.reshape(1, n * cin, h, w)
            weight = weight.transpose(1, 2).reshape(n * cin, cout, k, k)
            out = F.conv_transpose2d(x, weight, padding=0, stride=2, groups=n)
            out = self.blur(out.view(n, cout, out.shape[2], out.shape[3]))
        elif self.downsample:
            x = self.blur(x)
            x = x.reshape(1, n * cin, x.shape[2], x.shape[3])
            out = F.conv2d(x, weight.reshape(n * cout, cin, k, k), padding=0, stride=2, groups=n)
            out = out.view(n, cout, out.shape[2], out.shape[3])
        else:
            x = x.reshape(1, n * cin, h, w)
            out = F.conv2d(x, weight.reshape(n * cout, cin, k, k), padding=self.padding, groups=n)
            out = out.view(n, cout, out.shape[2], out.shape[3])
        return out

    def _forward_unfused(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        n, cin = x.shape[:2]
        s = self.modulation(style)  # N×in
        weight = self.scale * self.weight[0]  # out×in×k×k
        x = x * s.view(n, cin, 1, 1)
        if self.upsample:
            out = self.blur(F.conv_transpose2d(x, weight.transpose(0, 1), padding=0, stride=2))
        elif self.downsample:
            out = F.conv2d(self.blur(x), weight, padding=0, stride=2)
        else:
            out = F.conv2d(x, weight, padding=self.padding)
        if self.demodulate:
            d = torch.rsqrt((weight.unsqueeze(0) * s.view(n, 1, cin, 1, 1)).pow(2).sum([2, 3, 4]) + 1e-8)
            out = out * d.view(n, self.out_channel, 1, 1)
        return out


class NoiseInjection(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        if noise is None:
            noise = draws.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device).to(x.dtype)
        return x + self.weight * noise


class ConstantInput(nn.Module):
    def __init__(self, channel: int, size: int = 4) -> None:
        super().__init__()
        self.input = nn.Parameter(draws.randn(1, channel, size, size))

    def forward(self, batch: int) -> torch.Tensor:
        return self.input.expand(batch, -1, -1, -1)


class StyledConv(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, k: int, style_dim: int, upsample: bool = False,
                 blur_kernel=BLUR_KERNEL, demodulate: bool = True) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, k, style_dim, upsample=upsample, blur_kernel=blur_kernel,
                                    demodulate=demodulate)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_ch)

    def forward(self, x, style, noise=None):
        return self.activate(self.noise(self.conv(x, style), noise=noise))


class ToRGB(nn.Module):
    def __init__(self, in_ch: int, style_dim: int, upsample: bool = True, blur_kernel=BLUR_KERNEL) -> None:
        super().__init__()
        if upsample:
            self.upsample = Upsample(blur_kernel)
        self.conv = ModulatedConv2d(in_ch, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x, style, skip=None):
        out = self.conv(x, style) + self.bias
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class WShift(nn.Module):
    """A learnable offset added to w: the smallest thing one can fine-tune (GANSketching's ``w_shift``)."""

    def __init__(self, style_dim: int) -> None:
        super().__init__()
        self.w_shift = nn.Parameter(torch.zeros(1, style_dim))

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return w + self.w_shift


# ---------------------------------------------------------------------------------------------


class Generator(nn.Module):
    """StyleGAN2 generator: mapping network ``style`` (z -> w) and a synthesis network with skip toRGB.

    ``forward(z)`` with z: N×style_dim (or a list of two for style mixing) -> N×3×size×size in about [-1, 1].
    """

    def __init__(self, config: StyleGANConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.size = c.size
        self.style_dim = c.style_dim
        layers: list[nn.Module] = [PixelNorm()]
        for _ in range(c.n_mlp):
            layers.append(EqualLinear(c.style_dim, c.style_dim, lr_mul=c.lr_mlp, activation="fused_lrelu"))
        if c.w_shift:
            layers.append(WShift(c.style_dim))
        self.style = nn.Sequential(*layers)

        self.input = ConstantInput(c.channels(4))
        self.conv1 = StyledConv(c.channels(4), c.channels(4), 3, c.style_dim)
        self.to_rgb1 = ToRGB(c.channels(4), c.style_dim, upsample=False)
        self.log_size = c.log_size
        self.num_layers = (self.log_size - 2) * 2 + 1
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        self.noises = nn.Module()
        for i in range(self.num_layers):
            res = 2 ** ((i + 5) // 2)
            self.noises.register_buffer(f"noise_{i}", draws.randn(1, 1, res, res))
        in_ch = c.channels(4)
        for i in range(3, self.log_size + 1):
            out_ch = c.channels(2**i)
            self.convs.append(StyledConv(in_ch, out_ch, 3, c.style_dim, upsample=True))
            self.convs.append(StyledConv(out_ch, out_ch, 3, c.style_dim))
            self.to_rgbs.append(ToRGB(out_ch, c.style_dim))
            in_ch = out_ch
        self.n_latent = c.n_latent

    @property
    def device(self) -> torch.device:
        return self.input.input.device

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        """z: N×style_dim -> w: N×style_dim."""
        return self.style(z)

    @torch.no_grad()
    def mean_latent(self, n: int = 4096, seed: int = 0) -> torch.Tensor:
        """Average w over ``n`` random z (the truncation centre), 1×style_dim."""
        g = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.style_dim, generator=g).to(self.device)
        return self.style(z).mean(0, keepdim=True)

    def make_noise(self, batch: int, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """Per-layer noise images, drawn on the CPU (so a seed gives the same image on every device)."""
        out = []
        for i in range(self.num_layers):
            res = 2 ** ((i + 5) // 2)
            out.append(torch.randn(batch, 1, res, res, generator=generator).to(self.device))
        return out

    def forward(
        self,
        styles: torch.Tensor | list[torch.Tensor],
        *,
        input_is_latent: bool = False,
        truncation: float = 1.0,
        truncation_latent: torch.Tensor | None = None,
        noise: list[torch.Tensor] | None = None,
        randomize_noise: bool = True,
        inject_index: int | None = None,
        return_latents: bool = False,
    ):
        if isinstance(styles, torch.Tensor):
            styles = [styles]
        if not input_is_latent:
            styles = [self.style(s) for s in styles]
        if noise is None:
            if randomize_noise:
                noise = [None] * self.num_layers
            else:
                noise = [getattr(self.noises, f"noise_{i}") for i in range(self.num_layers)]
        if truncation < 1.0:
            if truncation_latent is None:
                raise ValueError("truncation < 1 needs truncation_latent (see mean_latent())")
            styles = [truncation_latent + truncation * (s - truncation_latent) for s in styles]
        if len(styles) < 2:
            s = styles[0]
            latent = s if s.ndim == 3 else s.unsqueeze(1).expand(-1, self.n_latent, -1)
        else:
            if inject_index is None:
                inject_index = draws.randint(1, self.n_latent - 1)
            latent = torch.cat(
                [
                    styles[0].unsqueeze(1).expand(-1, inject_index, -1),
                    styles[1].unsqueeze(1).expand(-1, self.n_latent - inject_index, -1),
                ],
                1,
            )
        out = self.input(latent.shape[0])
        out = self.conv1(out, latent[:, 0], noise=noise[0])
        skip = self.to_rgb1(out, latent[:, 1])
        i = 1
        for conv1, conv2, n1, n2, to_rgb in zip(
            self.convs[::2], self.convs[1::2], noise[1::2], noise[2::2], self.to_rgbs
        ):
            out = conv1(out, latent[:, i], noise=n1)
            out = conv2(out, latent[:, i + 1], noise=n2)
            skip = to_rgb(out, latent[:, i + 2], skip)
            i += 2
        if return_latents:
            return skip, latent
        return skip


class ConvLayer(nn.Sequential):
    def __init__(self, in_ch: int, out_ch: int, k: int, downsample: bool = False, blur_kernel=BLUR_KERNEL,
                 bias: bool = True, activate: bool = True) -> None:
        layers: list[nn.Module] = []
        if downsample:
            p = (len(blur_kernel) - 2) + (k - 1)
            layers.append(Blur(blur_kernel, pad=((p + 1) // 2, p // 2)))
            stride, padding = 2, 0
        else:
            stride, padding = 1, k // 2
        layers.append(
            EqualConv2d(in_ch, out_ch, k, padding=padding, stride=stride, bias=bias and not activate)
        )
        if activate:
            layers.append(FusedLeakyReLU(out_ch, bias=bias))
        super().__init__(*layers)


class ResBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, blur_kernel=BLUR_KERNEL) -> None:
        super().__init__()
        self.conv1 = ConvLayer(in_ch, in_ch, 3)
        self.conv2 = ConvLayer(in_ch, out_ch, 3, downsample=True)
        self.skip = ConvLayer(in_ch, out_ch, 1, downsample=True, activate=False, bias=False)

    def forward(self, x):
        return (self.conv2(self.conv1(x)) + self.skip(x)) / SQRT2


class Discriminator(nn.Module):
    """StyleGAN2 residual discriminator with a minibatch-stddev feature: N×3×size×size -> N×1 logits."""

    def __init__(self, config: StyleGANConfig) -> None:
        super().__init__()
        c = config
        self.config = config
        convs: list[nn.Module] = [ConvLayer(3, c.channels(c.size), 1)]
        in_ch = c.channels(c.size)
        for i in range(c.log_size, 2, -1):
            out_ch = c.channels(2 ** (i - 1))
            convs.append(ResBlock(in_ch, out_ch))
            in_ch = out_ch
        self.convs = nn.Sequential(*convs)
        self.stddev_group = 4
        self.stddev_feat = 1
        self.final_conv = ConvLayer(in_ch + 1, c.channels(4), 3)
        self.final_linear = nn.Sequential(
            EqualLinear(c.channels(4) * 16, c.channels(4), activation="fused_lrelu"),
            EqualLinear(c.channels(4), 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.convs(x)
        n, ch, h, w = out.shape
        group = max(g for g in range(1, min(n, self.stddev_group) + 1) if n % g == 0)
        sd = out.view(group, -1, self.stddev_feat, ch // self.stddev_feat, h, w)
        sd = torch.sqrt(sd.var(0, unbiased=False) + 1e-8).mean([2, 3, 4], keepdim=True).squeeze(2)
        sd = sd.repeat(group, 1, h, w)
        out = self.final_conv(torch.cat([out, sd], 1))
        return self.final_linear(out.view(n, -1))


