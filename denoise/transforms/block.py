"""Orthonormal block transforms as fixed-weight strided convolutions.

Space-to-depth, the block DCT and the Haar transform are all the same operation with a different basis:
every non-overlapping k x k block of every channel is projected onto k*k orthonormal k x k patterns, and
coefficient ``m`` of all blocks is gathered in one output channel. Written as a depthwise convolution
(stride k) and its transposed convolution, the transform is exact, differentiable, device- and
dtype-agnostic, and exports to any runtime as plain Conv / ConvTranspose operators.

Channel layout of the coefficients: output channel ``c * k * k + m`` holds coefficient ``m`` of input
channel ``c`` (the ``pixel_unshuffle`` order when the basis is one-hot).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from denoise.transforms._checks import check_divisible, check_image_tensor


def check_orthonormal(basis: torch.Tensor, atol: float = 1e-12) -> None:
    """Raise unless ``basis`` (k*k, k, k) holds k*k orthonormal k x k patterns."""
    count, k, k2 = basis.shape
    if k != k2 or count != k * k:
        raise ValueError(f"a block basis must have shape (k*k, k, k), got {tuple(basis.shape)}")
    flat = basis.reshape(count, count).double()  # (k*k, k*k): one pattern per row
    gram = flat @ flat.T
    if not torch.allclose(gram, torch.eye(count, dtype=gram.dtype), atol=atol):
        raise ValueError("block basis is not orthonormal")


def _conv_weight(basis: torch.Tensor, channels: int, like: torch.Tensor) -> torch.Tensor:
    """Depthwise weight (C*k*k, 1, k, k): the basis repeated once per input channel."""
    count, k, _ = basis.shape
    weight = basis.to(device=like.device, dtype=like.dtype).reshape(count, 1, k, k)
    return weight.repeat(channels, 1, 1, 1)  # (C*k*k, 1, k, k)


def block_transform(x: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """Project every k x k block of ``x`` onto an orthonormal basis.

    Args:
        x: image tensor, any real values.
        basis: (k*k, k, k) orthonormal patterns (see :func:`check_orthonormal`).

    Returns:
        Coefficients; channel ``c*k*k + m`` is pattern ``m`` of channel ``c``.

    Shape:
        x: (B, C, H, W) with H, W multiples of k -> (B, C*k*k, H/k, W/k).
    """
    check_image_tensor(x)
    k = basis.shape[-1]
    check_divisible(x, k)
    channels = x.shape[1]
    return F.conv2d(x, _conv_weight(basis, channels, x), stride=k, groups=channels)


def block_inverse(coefficients: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """Exact inverse of :func:`block_transform` (the transpose of an orthonormal map).

    Shape:
        coefficients: (B, C*k*k, H, W) -> (B, C, H*k, W*k).
    """
    check_image_tensor(coefficients, "coefficients")
    count, k, _ = basis.shape
    if coefficients.shape[1] % count:
        raise ValueError(
            f"coefficients have {coefficients.shape[1]} channels, not a multiple of the {count} "
            f"patterns of a {k}x{k} block basis"
        )
    channels = coefficients.shape[1] // count
    weight = _conv_weight(basis, channels, coefficients)
    return F.conv_transpose2d(coefficients, weight, stride=k, groups=channels)


class BlockTransform(nn.Module):
    """Thin module over :func:`block_transform` / :func:`block_inverse` with a fixed basis buffer.

    ``forward`` encodes, ``inverse`` decodes. ``factor`` is the block size k (the spatial downsampling),
    ``expansion`` the channel multiplier k*k.
    """

    def __init__(self, basis: torch.Tensor) -> None:
        super().__init__()
        check_orthonormal(basis)
        self.register_buffer("basis", basis.clone(), persistent=False)
        self.factor = int(basis.shape[-1])
        self.expansion = int(basis.shape[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return block_transform(x, self.basis)

    def inverse(self, coefficients: torch.Tensor) -> torch.Tensor:
        return block_inverse(coefficients, self.basis)

    def extra_repr(self) -> str:
        return f"factor={self.factor}"
