"""The eight flips/rotations of the square (the dihedral group D4) and their inverses.

Used for the x8 self-ensemble: denoise each transformed copy, undo the transform, average.
"""

from __future__ import annotations

import torch

DIHEDRAL_COUNT = 8


def dihedral(x: torch.Tensor, index: int) -> torch.Tensor:
    """Transform ``index`` in 0..7: a rotation by ``index % 4`` quarter turns, preceded by a left-right flip
    when ``index >= 4``.

    Shape:
        (..., H, W) -> (..., H, W) for even rotations, (..., W, H) for odd ones.
    """
    if not 0 <= index < DIHEDRAL_COUNT:
        raise ValueError(f"dihedral index must be in 0..7, got {index}")
    if index >= 4:
        x = x.flip(-1)
    return torch.rot90(x, index % 4, dims=(-2, -1))


def dihedral_inverse(x: torch.Tensor, index: int) -> torch.Tensor:
    """Exact inverse of :func:`dihedral` with the same ``index``."""
    if not 0 <= index < DIHEDRAL_COUNT:
        raise ValueError(f"dihedral index must be in 0..7, got {index}")
    x = torch.rot90(x, -(index % 4), dims=(-2, -1))
    return x.flip(-1) if index >= 4 else x
