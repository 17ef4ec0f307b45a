"""RGB <-> YCbCr with an exact inverse.

The forward transform is kornia's (BT.601 with chroma offset 0.5). kornia's own ``ycbcr_to_rgb`` uses
rounded coefficients and clamps to [0, 1], so a round trip is off by ~1e-3 and noisy values outside
[0, 1] are lost; the inverse here is the algebraic inverse of kornia's forward and needs no clamp.
"""

from __future__ import annotations

import kornia
import torch
from torch import nn

from denoise.transforms._checks import check_image_tensor

# kornia.color.rgb_to_ycbcr: y = 0.299 r + 0.587 g + 0.114 b; cb = (b - y) 0.564 + 0.5; cr = (r - y) 0.713 + 0.5
_LUMA_R, _LUMA_G, _LUMA_B = 0.299, 0.587, 0.114
_CB_SCALE, _CR_SCALE, _CHROMA_OFFSET = 0.564, 0.713, 0.5


def _check_rgb(x: torch.Tensor, name: str) -> None:
    check_image_tensor(x, name)
    if x.shape[1] != 3:
        raise ValueError(f"{name} must have 3 channels for a YCbCr conversion, got {x.shape[1]}")


def rgb_to_ycbcr(rgb: torch.Tensor) -> torch.Tensor:
    """RGB -> YCbCr (kornia's definition). Shape: (B, 3, H, W) -> (B, 3, H, W)."""
    _check_rgb(rgb, "rgb")
    return kornia.color.rgb_to_ycbcr(rgb)


def ycbcr_to_rgb(ycbcr: torch.Tensor) -> torch.Tensor:
    """Exact inverse of :func:`rgb_to_ycbcr`, no clamping. Shape: (B, 3, H, W) -> (B, 3, H, W)."""
    _check_rgb(ycbcr, "ycbcr")
    luma, cb, cr = ycbcr.unbind(dim=1)  # each (B, H, W)
    blue = luma + (cb - _CHROMA_OFFSET) / _CB_SCALE
    red = luma + (cr - _CHROMA_OFFSET) / _CR_SCALE
    green = (luma - _LUMA_R * red - _LUMA_B * blue) / _LUMA_G
    return torch.stack([red, green, blue], dim=1)  # (B, 3, H, W)


class RgbToYcbcr(nn.Module):
    """Module form of :func:`rgb_to_ycbcr`; ``inverse`` is :func:`ycbcr_to_rgb`."""

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return rgb_to_ycbcr(rgb)

    def inverse(self, ycbcr: torch.Tensor) -> torch.Tensor:
        return ycbcr_to_rgb(ycbcr)
