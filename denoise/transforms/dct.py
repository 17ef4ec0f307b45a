"""Orthonormal block DCT-II (DCTNet layout) and its inverse.

Every non-overlapping k x k block is transformed with the 2-D orthonormal DCT-II; coefficient (u, v) of
all blocks of channel ``c`` is gathered in channel ``c*k*k + u*k + v``. The transform is orthonormal, so
coefficients stay on the scale of the input (white noise of std sigma stays white with std sigma in every
coefficient) and training cannot blow up the way an unnormalised DCT does.
"""

from __future__ import annotations

import functools
import math

import torch

from denoise.transforms.block import BlockTransform, block_inverse, block_transform
from denoise.transforms.color import rgb_to_ycbcr, ycbcr_to_rgb


@functools.lru_cache(maxsize=16)
def dct_matrix(k: int) -> torch.Tensor:
    """Orthonormal 1-D DCT-II matrix (k, k) in float64: ``D[u, i] = a(u) cos(pi (2i + 1) u / (2k))``."""
    if k < 2:
        raise ValueError(f"DCT block size must be >= 2, got {k}")
    index = torch.arange(k, dtype=torch.float64)
    matrix = torch.cos(math.pi * (2 * index[None, :] + 1) * index[:, None] / (2 * k))  # (u, i)
    matrix[0] *= math.sqrt(1.0 / k)
    matrix[1:] *= math.sqrt(2.0 / k)
    return matrix


@functools.lru_cache(maxsize=16)
def dct_basis(k: int) -> torch.Tensor:
    """2-D DCT-II patterns (k*k, k, k): pattern ``u*k + v`` is the outer product ``D[u] x D[v]``."""
    matrix = dct_matrix(k)
    return torch.einsum("ui,vj->uvij", matrix, matrix).reshape(k * k, k, k)


def block_dct(x: torch.Tensor, k: int = 8, ycbcr: bool = False) -> torch.Tensor:
    """Orthonormal DCT-II of every k x k block, frequencies grouped into channels.

    Args:
        x: image tensor, any real values (RGB when ``ycbcr``).
        k: block size, >= 2.
        ycbcr: convert RGB to YCbCr (kornia's BT.601 form) before the DCT.

    Shape:
        (B, C, H, W) -> (B, C*k*k, H/k, W/k); H and W must be multiples of k.
    """
    if ycbcr:
        x = rgb_to_ycbcr(x)
    return block_transform(x, dct_basis(k))


def block_idct(x: torch.Tensor, k: int = 8, ycbcr: bool = False) -> torch.Tensor:
    """Exact inverse of :func:`block_dct` with the same ``k`` and ``ycbcr``.

    Shape:
        (B, C*k*k, H, W) -> (B, C, H*k, W*k).
    """
    image = block_inverse(x, dct_basis(k))
    return ycbcr_to_rgb(image) if ycbcr else image


class BlockDCT(BlockTransform):
    """Module form of :func:`block_dct`; ``inverse`` is :func:`block_idct`."""

    def __init__(self, k: int = 8, ycbcr: bool = False) -> None:
        super().__init__(dct_basis(k))
        self.ycbcr = ycbcr

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(rgb_to_ycbcr(x) if self.ycbcr else x)

    def inverse(self, coefficients: torch.Tensor) -> torch.Tensor:
        image = super().inverse(coefficients)
        return ycbcr_to_rgb(image) if self.ycbcr else image

    def extra_repr(self) -> str:
        return f"factor={self.factor}, ycbcr={self.ycbcr}"
