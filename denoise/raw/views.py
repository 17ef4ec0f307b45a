"""Bayer-preserving flips and rotations of packed RGGB planes, for the raw model's self-ensemble.

Flipping or rotating a mosaic moves its red pixel off the top-left corner unless the move is the identity or
the transpose; the planes of the moved mosaic would then hold the wrong colours (Liu et al. 2019, "Learning
Raw Image Denoising with Bayer Pattern Unification and Bayer Preserving Augmentation"). A view here unpacks the
planes (B, 4, h, w) to their mosaic (B, 1, 2h, 2w) (R G / G B, as :func:`~denoise.raw.cfa.pack` packs),
applies the dihedral transform (:func:`~denoise.transforms.dihedral.dihedral`), and along each axis where red
has moved to an odd index pads the mosaic by one pixel on both sides with a reflection (the pixel two away,
of the same colour), which puts red back at index 0 and keeps the size even; then packs again. The inverse
unpacks, crops that frame, undoes the transform and packs: exact for every view.

    >>> views = bayer_dihedral(planes, 7)              # (B, 4, h + 1, w + 1): the anti-transpose moves red
    >>> bayer_dihedral_inverse(views, 7).equal(planes)  # True
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from denoise.transforms.dihedral import ENSEMBLE_ORDER, dihedral, dihedral_inverse

# Views a raw file is denoised with by default: the mosaic and its Bayer-preserving anti-transpose (the first two
# of ENSEMBLE_ORDER, as the blind model's), for twice the time; on held-out synthetic raw most of what four or
# eight views gain (results/heldout_ensemble_raw.md).
RAW_ENSEMBLE = 2
RAW_VIEWS = ENSEMBLE_ORDER[:RAW_ENSEMBLE]  # their transform indices


@functools.cache
def red_moved(index: int) -> tuple[int, int]:
    """(rows, columns): 1 where dihedral transform ``index`` moves a mosaic's red pixel to an odd index."""
    red = torch.zeros(2, 2)
    red[0, 0] = 1
    row, column = divmod(int(dihedral(red, index).argmax()), 2)
    return row, column


def _check_planes(planes: torch.Tensor) -> None:
    if planes.ndim != 4 or planes.shape[1] != 4:
        raise ValueError(f"packed Bayer planes must be (B, 4, h, w), got shape {tuple(planes.shape)}")


def bayer_dihedral(planes: torch.Tensor, index: int) -> torch.Tensor:
    """Transform ``index`` (0..7, as :func:`~denoise.transforms.dihedral.dihedral`) of the mosaic behind
    ``planes``, packed again with red at the top-left.

    Shape: (B, 4, h, w) -> (B, 4, h', w'), the two axes swapped by odd rotations, each one longer where
    :func:`red_moved`.
    """
    _check_planes(planes)
    mosaic = dihedral(F.pixel_shuffle(planes, 2), index)
    rows, columns = red_moved(index)
    if rows or columns:
        mosaic = F.pad(mosaic, (columns, columns, rows, rows), mode="reflect")
    return F.pixel_unshuffle(mosaic, 2)


def bayer_dihedral_inverse(planes: torch.Tensor, index: int) -> torch.Tensor:
    """Exact inverse of :func:`bayer_dihedral` with the same ``index``. Shape: (B, 4, h', w') -> (B, 4, h, w)."""
    _check_planes(planes)
    mosaic = F.pixel_shuffle(planes, 2)
    rows, columns = red_moved(index)
    mosaic = mosaic[..., rows : mosaic.shape[-2] - rows, columns : mosaic.shape[-1] - columns]
    return F.pixel_unshuffle(dihedral_inverse(mosaic, index), 2)
