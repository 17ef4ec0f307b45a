"""One level of the orthonormal 2-D Haar wavelet transform and its inverse.

For a 2 x 2 block [[a, b], [c, d]] (rows top to bottom) the four sub-bands are
    LL = (a + b + c + d) / 2    local mean (times 2)
    LH = (a + b - c - d) / 2    low along the width, high along the height: horizontal edges
    HL = (a - b + c - d) / 2    high along the width: vertical edges
    HH = (a - b - c + d) / 2    diagonal detail
in channels ``4c + 0..3`` for input channel ``c``. Nothing is thrown away, unlike pooling or strided
convolution, which is why Haar downsampling (HWD) keeps detail.
"""

from __future__ import annotations

import functools

import torch

from denoise.transforms.block import BlockTransform, block_inverse, block_transform


@functools.lru_cache(maxsize=1)
def haar_basis() -> torch.Tensor:
    """Haar patterns (4, 2, 2) in float64, in LL, LH, HL, HH order."""
    patterns = [
        [[1.0, 1.0], [1.0, 1.0]],  # LL
        [[1.0, 1.0], [-1.0, -1.0]],  # LH
        [[1.0, -1.0], [1.0, -1.0]],  # HL
        [[1.0, -1.0], [-1.0, 1.0]],  # HH
    ]
    return torch.tensor(patterns, dtype=torch.float64) / 2.0


def haar_dwt(x: torch.Tensor) -> torch.Tensor:
    """One-level orthonormal Haar DWT.

    Shape:
        (B, C, H, W) -> (B, 4C, H/2, W/2) as LL, LH, HL, HH per input channel; H, W even.

    Example:
        >>> haar_dwt(torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])).flatten().tolist()
        [5.0, -2.0, -1.0, 0.0]
    """
    return block_transform(x, haar_basis())


def haar_idwt(x: torch.Tensor) -> torch.Tensor:
    """Exact inverse of :func:`haar_dwt`.

    Shape:
        (B, 4C, H, W) -> (B, C, 2H, 2W).
    """
    return block_inverse(x, haar_basis())


class HaarDWT(BlockTransform):
    """Module form of :func:`haar_dwt`; ``inverse`` is :func:`haar_idwt`."""

    def __init__(self) -> None:
        super().__init__(haar_basis())
