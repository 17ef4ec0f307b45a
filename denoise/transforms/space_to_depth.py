"""Space-to-depth (pixel_unshuffle) and its inverse, as an orthonormal block transform.

Each r x r block of a channel becomes r*r channels; the basis is one-hot, so the coefficients are the
pixels themselves in ``torch.nn.functional.pixel_unshuffle`` order (channel ``c*r*r + i*r + j`` holds
pixel (i, j) of each block of channel ``c``). Expressing it as a fixed stride-r convolution keeps it
exportable (ONNX's SpaceToDepth uses another channel order).
"""

from __future__ import annotations

import functools

import torch

from denoise.transforms.block import BlockTransform, block_inverse, block_transform


@functools.lru_cache(maxsize=16)
def space_to_depth_basis(r: int = 2) -> torch.Tensor:
    """One-hot basis (r*r, r, r) in float64: pattern ``i*r + j`` selects pixel (i, j)."""
    if r < 1:
        raise ValueError(f"space-to-depth factor must be >= 1, got {r}")
    return torch.eye(r * r, dtype=torch.float64).reshape(r * r, r, r)


def space_to_depth(x: torch.Tensor, r: int = 2) -> torch.Tensor:
    """Rearrange r x r blocks into channels.

    Args:
        x: image tensor, any real values.
        r: block size.

    Shape:
        (B, C, H, W) -> (B, C*r*r, H/r, W/r); H and W must be multiples of r.

    Example:
        >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
        >>> space_to_depth(x)[0, :, 0, 0].tolist()
        [0.0, 1.0, 4.0, 5.0]
    """
    return block_transform(x, space_to_depth_basis(r))


def depth_to_space(x: torch.Tensor, r: int = 2) -> torch.Tensor:
    """Exact inverse of :func:`space_to_depth`.

    Shape:
        (B, C*r*r, H, W) -> (B, C, H*r, W*r).
    """
    return block_inverse(x, space_to_depth_basis(r))


class SpaceToDepth(BlockTransform):
    """Module form of :func:`space_to_depth`; ``inverse`` is :func:`depth_to_space`."""

    def __init__(self, r: int = 2) -> None:
        super().__init__(space_to_depth_basis(r))
