"""The eight flips/rotations of the square (the dihedral group D4) and their inverses.

Used for the self-ensemble: denoise each transformed copy, undo the transform, average. Each transform is a
flip of some axes followed by an optional transpose, so the identity and the transpose cost no copy (they
return views).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

DIHEDRAL_COUNT = 8

# Transform i of :func:`dihedral` (a rotation by i % 4 quarter turns counter-clockwise, preceded by a left-right
# flip when i >= 4) as (axes flipped first, transposed after).
_FLIPS_THEN_TRANSPOSE: tuple[tuple[tuple[int, ...], bool], ...] = (
    ((), False),  # 0: identity
    ((-1,), True),  # 1: a quarter turn
    ((-2, -1), False),  # 2: a half turn
    ((-2,), True),  # 3: three quarter turns
    ((-1,), False),  # 4: left-right flip
    ((), True),  # 5: transpose
    ((-2,), False),  # 6: up-down flip
    ((-2, -1), True),  # 7: anti-transpose
)

# The self-ensemble's views in order of use: the first 1, 2, 4 and 8 are each a subgroup (identity; with the
# anti-transpose; with the half turn and the transpose; all), so every prefix treats both axes alike. The
# anti-transpose comes second: on an image of even size it moves every pixel's row and column parity, so the
# 2 x 2 grid of a space-to-depth network falls between other pixels and its errors differ most from the
# identity's (of the second views, it gained the most on held-out images: results/heldout_ensemble.md).
ENSEMBLE_ORDER = (0, 7, 2, 5, 1, 3, 4, 6)
ENSEMBLE_SIZES = (1, 2, 4, 8)


def _check(index: int) -> None:
    if not 0 <= index < DIHEDRAL_COUNT:
        raise ValueError(f"dihedral index must be in 0..7, got {index}")


def dihedral(x: torch.Tensor, index: int) -> torch.Tensor:
    """Transform ``index`` in 0..7: a rotation by ``index % 4`` quarter turns (counter-clockwise, as
    ``torch.rot90``), preceded by a left-right flip when ``index >= 4``. 0 and 5 return views of ``x``.

    Shape:
        (..., H, W) -> (..., H, W) for even rotations, (..., W, H) for odd ones.
    """
    _check(index)
    flips, transpose = _FLIPS_THEN_TRANSPOSE[index]
    x = x.flip(flips) if flips else x
    return x.transpose(-2, -1) if transpose else x


def dihedral_inverse(x: torch.Tensor, index: int) -> torch.Tensor:
    """Exact inverse of :func:`dihedral` with the same ``index``."""
    _check(index)
    flips, transpose = _FLIPS_THEN_TRANSPOSE[index]
    x = x.transpose(-2, -1) if transpose else x
    return x.flip(flips) if flips else x


Transform = Callable[[torch.Tensor, int], torch.Tensor]


def ensemble_mean(
    fn: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor],
    x: torch.Tensor,
    views: Sequence[int],
    extra: torch.Tensor | None = None,
    transform: Transform = dihedral,
    inverse: Transform = dihedral_inverse,
) -> torch.Tensor:
    """The self-ensemble: the mean over the transforms ``views`` of ``fn`` on each transformed ``x`` (and
    ``extra``, a per-pixel side input such as a noise map, transformed alike), each result transformed back.

    ``transform``/``inverse``: the views' family, :func:`dihedral` by default (packed Bayer planes have their
    own, :func:`~denoise.raw.views.bayer_dihedral`). The results are summed in place into the first, so it
    holds one result beside ``fn``'s own memory; a single identity view is ``fn(x, extra)`` itself. Shape:
    x (..., H, W), extra (..., H, W) or None -> fn's output, (..., H, W).
    """
    if tuple(views) == (0,):
        return fn(x, extra)
    total = None
    for index in views:
        result = inverse(fn(transform(x, index), None if extra is None else transform(extra, index)), index)
        if total is None:  # fn may hand back its input: never add into x itself
            total = result.clone() if result.data_ptr() == x.data_ptr() else result
        else:
            total.add_(result)
    return total.div_(len(views))
