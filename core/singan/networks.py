"""SinGAN's per-scale networks: a fully convolutional generator and a Markovian patch critic.

Both are ``num_layers`` blocks of 3×3 convolutions without padding; the input is zero-padded
once by the receptive field instead, as in the paper's code.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ConvBlock(nn.Sequential):
    """3×3 conv → [BatchNorm] → LeakyReLU, no padding: (N, c_in, H, W) → (N, c_out, H-2, W-2).

    SinGAN uses BatchNorm and slope 0.2; ConSinGAN drops BatchNorm (it normalises over a batch of one
    image, which hides a uniform loss of contrast from the critic) and uses slope 0.05.
    """

    def __init__(self, c_in: int, c_out: int, batch_norm: bool = True, slope: float = 0.2) -> None:
        layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=0)]
        if batch_norm:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(nn.LeakyReLU(slope, inplace=True))
        super().__init__(*layers)


class _ConvStack(nn.Module):
    def __init__(self, channels: int, num_layers: int, out_channels: int, batch_norm: bool = True,
                 slope: float = 0.2, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.head = ConvBlock(3, channels, batch_norm, slope)
        self.body = nn.Sequential(*[ConvBlock(channels, channels, batch_norm, slope) for _ in range(num_layers - 2)])
        self.tail = nn.Conv2d(channels, out_channels, 3, padding=0)
        self.apply(lambda m: init_weights(m, generator))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.tail(self.body(self.head(x)))


def residual_base(prev: torch.Tensor, crop: int, out_hw: tuple[int, int]) -> torch.Tensor:
    """The image the generator's output is added to: ``prev`` itself when it already has the output
    size, else its centre (``prev`` padded by ``crop`` px)."""
    if tuple(prev.shape[-2:]) == tuple(out_hw):
        return prev
    return prev[:, :, crop : prev.shape[2] - crop, crop : prev.shape[3] - crop]


class Generator(_ConvStack):
    """ψ_n: x̃_n = x̃_{n+1}↑ + ψ_n(z_n + x̃_{n+1}↑).

    ``forward(noisy, prev)``: ``noisy`` is padded by ``num_layers`` px, (N, 3, H+2p, W+2p) → (N, 3, H, W);
    ``prev`` is either padded the same way (its centre is used) or already H×W.
    """

    def __init__(self, channels: int, num_layers: int = 5, batch_norm: bool = True, slope: float = 0.2,
                 generator: torch.Generator | None = None) -> None:
        super().__init__(channels, num_layers, 3, batch_norm, slope, generator)
        self.crop = num_layers

    def forward(self, noisy: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        out = torch.tanh(self.features(noisy))
        return out + residual_base(prev, self.crop, out.shape[-2:])


class Discriminator(_ConvStack):
    """Markovian critic: one WGAN score per 11×11 patch, (N, 3, H, W) → (N, 1, H-2p, W-2p)."""

    def __init__(self, channels: int, num_layers: int = 5, batch_norm: bool = True, slope: float = 0.2,
                 generator: torch.Generator | None = None) -> None:
        super().__init__(channels, num_layers, 1, batch_norm, slope, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


def init_weights(m: nn.Module, generator: torch.Generator | None = None) -> None:
    """The paper code's init: conv weights N(0, 0.02), BN weights N(1, 0.02), biases 0."""
    if isinstance(m, nn.Conv2d):
        nn.init.normal_(m.weight, 0.0, 0.02, generator=generator)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02, generator=generator)
        nn.init.zeros_(m.bias)


def make_networks(config, scale: int, seed: int | None = None) -> tuple[Generator, Discriminator]:
    """The generator and critic a :class:`~core.singan.config.SinGANConfig` prescribes for ``scale``.
    With ``seed`` their weights come from a generator of their own: seeding torch's global one instead
    let any other thread that draws from it meanwhile (the Train dock's time estimate, another job)
    change a training's start, so one seed trained two different models."""
    ch = config.channels_at(scale)
    gen = None if seed is None else torch.Generator().manual_seed(int(seed))
    return (Generator(ch, config.num_layers, config.batch_norm, config.lrelu, gen),
            Discriminator(ch, config.num_layers, config.d_batch_norm, config.lrelu, gen))


class PerImageNorm(nn.Module):
    """A trained BatchNorm layer that normalises each image by its own mean and variance over the
    pixels, as training-mode BatchNorm does for SinGAN's batches of one image, then applies its
    learnt scale and shift. Its running averages are not used."""

    def __init__(self, bn: nn.BatchNorm2d) -> None:
        super().__init__()
        self.weight = nn.Parameter(bn.weight.detach().clone(), requires_grad=False)
        self.bias = nn.Parameter(bn.bias.detach().clone(), requires_grad=False)
        self.eps = bn.eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] == 1:  # training-mode batch_norm is that, and 4× faster than instance_norm channels-last
            return F.batch_norm(x, None, None, self.weight, self.bias, training=True, eps=self.eps)
        return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)


class FoldedGenerator(nn.Module):
    """Inference-only copy of a trained :class:`Generator` with BatchNorm (if any) folded into the convs.

    Same outputs as ``Generator.eval()`` (up to float rounding), one op fewer per layer. With
    ``per_image`` the BatchNorm layers become :class:`PerImageNorm` instead: the same outputs, image
    by image, as the training-mode generator that was trained (``SinGANConfig.per_image_norm``). On
    the CPU it runs channels-last (NHWC), which oneDNN's 3×3 convolutions run ~20–25 % faster at 64
    channels (bench/studio.py).
    """

    def __init__(self, g: Generator, per_image: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for block in [g.head, *g.body]:
            conv, act = block[0], block[-1]
            bn = block[1] if isinstance(block[1], nn.BatchNorm2d) else None
            fused = nn.Conv2d(conv.in_channels, conv.out_channels, 3, padding=0)
            if bn is not None and not per_image:
                scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                fused.weight.data = conv.weight.detach() * scale[:, None, None, None]
                fused.bias.data = (conv.bias.detach() - bn.running_mean) * scale + bn.bias.detach()
            else:
                fused.load_state_dict(conv.state_dict())
            norm = [PerImageNorm(bn)] if bn is not None and per_image else []
            layers += [fused, *norm, nn.LeakyReLU(act.negative_slope, inplace=True)]
        tail = nn.Conv2d(g.tail.in_channels, 3, 3, padding=0)
        tail.load_state_dict(g.tail.state_dict())
        layers.append(tail)
        device = g.tail.weight.device
        self.memory_format = torch.channels_last if device.type == "cpu" else torch.contiguous_format
        self.net = nn.Sequential(*layers).to(device, memory_format=self.memory_format)
        self.crop = g.crop
        self.requires_grad_(False)
        self.eval()

    def forward(self, noisy: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        out = torch.tanh(self.net(noisy))
        return out + residual_base(prev, self.crop, out.shape[-2:])
