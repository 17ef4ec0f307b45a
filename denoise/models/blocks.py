"""Building blocks shared by the UNets: conv blocks, ConvNeXt blocks, down- and upsampling.

All blocks map (B, C_in, H, W) -> (B, C_out, H', W') and hold no training logic.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from denoise.transforms.haar import HaarDWT
from denoise.utils.registry import Registry

NEGATIVE_SLOPE = 0.2  # of every LeakyReLU in the UNets' blocks


def leaky_relu_(x: torch.Tensor) -> torch.Tensor:
    """LeakyReLU(0.2) of a convolution's fresh output, in place: the same values and gradients as the
    out-of-place call without allocating and writing a second activation-sized tensor (out of place, it took
    8.5 % of the shipped colour network's forward pass in a CPU profile, docs/training.md)."""
    return F.leaky_relu(x, NEGATIVE_SLOPE, inplace=True)


class ConvBlock(nn.Module):
    """Two 3x3 convolutions, each followed by LeakyReLU(0.2).

    Shape:
        (B, in_channels, H, W) -> (B, out_channels, H, W).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return leaky_relu_(self.conv2(leaky_relu_(self.conv1(x))))


class ResidualBlock(nn.Module):
    """``x + conv2(LeakyReLU(conv1(x), 0.2))`` with 3x3 convolutions at a constant width.

    ``conv2`` starts at zero, so a new block is the identity: added to a trained network it leaves the
    network's function unchanged until training moves it (function-preserving growth).

    Shape:
        (B, channels, H, W) -> (B, channels, H, W).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(leaky_relu_(self.conv1(x)))


class ConvNeXtBlock(nn.Module):
    """ConvNeXt-style residual block.

    ``shortcut(x) + scale * reduce(GELU(expand(LayerNorm(depthwise(x)))))`` where the depthwise conv is
    k x k, ``expand`` is a 1x1 map to 2 * out_channels, ``reduce`` a 1x1 map back to out_channels, and
    ``scale`` a learnable per-channel residual scale initialised to 0 (the block starts as its shortcut).
    The shortcut is a 1x1 conv where the width changes, else the identity.

    Shape:
        (B, in_channels, H, W) -> (B, out_channels, H, W).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 7, expansion: int = 2) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"ConvNeXt kernel_size must be odd, got {kernel_size}")
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, padding=kernel_size // 2, groups=in_channels)
        self.norm = nn.LayerNorm(in_channels)
        self.expand = nn.Linear(in_channels, expansion * out_channels)
        self.reduce = nn.Linear(expansion * out_channels, out_channels)
        self.scale = nn.Parameter(torch.zeros(out_channels))
        same_width = in_channels == out_channels
        self.shortcut = nn.Identity() if same_width else nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.depthwise(x).permute(0, 2, 3, 1)  # (B, H, W, C_in): channels last for LN/Linear
        residual = self.reduce(F.gelu(self.expand(self.norm(residual))))  # (B, H, W, C_out)
        residual = (residual * self.scale).permute(0, 3, 1, 2)  # (B, C_out, H, W)
        return self.shortcut(x) + residual


class Stage(nn.Sequential):
    """``depth`` blocks made by ``block(in, out)``; the first changes the width.

    Shape: (B, C_in, H, W) -> (B, C_out, H, W).
    """

    def __init__(self, in_channels: int, out_channels: int, block: Callable[[int, int], nn.Module], depth: int) -> None:
        if depth < 1:
            raise ValueError(f"a stage needs at least one block, got depth={depth}")
        widths = [in_channels] + [out_channels] * depth
        super().__init__(*(block(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)))


class ConvNeXtStage(Stage):
    """``depth`` ConvNeXt blocks; the first changes the width. Shape: (B, C_in, H, W) -> (B, C_out, H, W)."""

    def __init__(self, in_channels: int, out_channels: int, depth: int = 2, kernel_size: int = 7) -> None:
        super().__init__(in_channels, out_channels, functools.partial(ConvNeXtBlock, kernel_size=kernel_size), depth)


class HaarDownsample(nn.Module):
    """Haar-wavelet downsampling (HWD): one-level DWT, then a 1x1 conv mixing the four sub-bands.

    Unlike pooling or strided convolution it discards nothing before the learned mixing.

    Shape:
        (B, C, H, W) -> (B, C, H/2, W/2).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.dwt = HaarDWT()
        self.mix = nn.Conv2d(4 * channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mix(self.dwt(x))


DOWNSAMPLERS: Registry[Callable[[int], nn.Module]] = Registry(
    "downsample",
    {
        "maxpool": lambda channels: nn.MaxPool2d(2),
        "strided": lambda channels: nn.Conv2d(channels, channels, 2, stride=2),
        "haar": HaarDownsample,
    },
)


def make_downsample(name: str, channels: int) -> nn.Module:
    """A 2x downsampling layer that keeps ``channels``. Shape: (B, C, H, W) -> (B, C, H/2, W/2)."""
    return DOWNSAMPLERS.get(name)(channels)


def make_upsample(in_channels: int, out_channels: int) -> nn.Module:
    """2x transposed-convolution upsampling. Shape: (B, C_in, H, W) -> (B, C_out, 2H, 2W)."""
    return nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2)
