"""Bayer colour-filter patterns and the packing of a mosaic into four RGGB planes, with its exact inverse.

A 2 x 2 Bayer pattern is named by its colours in reading order: ``RGGB``, ``BGGR``, ``GRBG`` or ``GBRG``. Any
of them is an RGGB mosaic seen from another phase: shifted by one row, one column or both. :func:`pack`
mirrors one row and/or column onto the top and left so that the mosaic starts on a red pixel, mirrors the
bottom and right up to a multiple of ``multiple`` (mirroring by one pixel keeps every pixel's colour, since
the pattern repeats every two), and stacks the four sites as planes R, G1, G2, B. :func:`unpack` undoes it
exactly for every pixel of the original mosaic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BAYER_PATTERNS = ("RGGB", "BGGR", "GRBG", "GBRG")
PLANES = ("R", "G1", "G2", "B")  # the packed order: the RGGB pattern read row by row


class UnsupportedSensorError(ValueError):
    """A colour filter that is not a 2 x 2 Bayer pattern (X-Trans, a linear or monochrome raw)."""


def red_phase(pattern: str) -> tuple[int, int]:
    """(row, column) of the red pixel in a 2 x 2 Bayer ``pattern``."""
    pattern = pattern.upper()
    if pattern not in BAYER_PATTERNS:
        raise UnsupportedSensorError(
            f"colour filter {pattern!r} is not a 2 x 2 Bayer pattern ({', '.join(BAYER_PATTERNS)}): "
            "only Bayer sensors are supported"
        )
    index = pattern.index("R")
    return index // 2, index % 2


@dataclass(frozen=True)
class Packing:
    """How a mosaic of ``shape`` was packed: rows/columns mirrored on each side before the 2 x 2 split."""

    shape: tuple[int, int]
    top: int
    left: int
    bottom: int
    right: int


def pack(mosaic: np.ndarray, pattern: str, multiple: int = 1) -> tuple[np.ndarray, Packing]:
    """Pack a Bayer mosaic into RGGB planes.

    Args:
        mosaic: (H, W) array, any dtype and values; H, W >= 2.
        pattern: the 2 x 2 colour pattern at the mosaic's top-left pixel (see :data:`BAYER_PATTERNS`).
        multiple: the packed planes' height and width are padded to a multiple of this (e.g. a network's).

    Returns:
        planes (4, H', W') in :data:`PLANES` order, of ``mosaic``'s dtype, and the :class:`Packing` that
        :func:`unpack` needs.
    """
    if mosaic.ndim != 2 or min(mosaic.shape) < 2:
        raise ValueError(f"a Bayer mosaic is a 2-D array of at least 2 x 2 pixels, got shape {mosaic.shape}")
    top, left = red_phase(pattern)
    height, width = mosaic.shape
    step = 2 * multiple
    bottom = -(height + top) % step
    right = -(width + left) % step
    # numpy's "reflect" mirrors about the edge pixel, so pixel -k takes pixel k's value: the same colour
    # whenever the pattern repeats every 2 pixels, as a Bayer mosaic does.
    padded = np.pad(mosaic, ((top, bottom), (left, right)), mode="reflect")
    rows, cols = padded.shape[0] // 2, padded.shape[1] // 2
    planes = padded.reshape(rows, 2, cols, 2).transpose(1, 3, 0, 2).reshape(4, rows, cols)
    return np.ascontiguousarray(planes), Packing((height, width), top, left, bottom, right)


def unpack(planes: np.ndarray, packing: Packing) -> np.ndarray:
    """The inverse of :func:`pack`: (4, H', W') planes -> the (H, W) mosaic, the mirrored border dropped."""
    _, rows, cols = planes.shape
    mosaic = planes.reshape(2, 2, rows, cols).transpose(2, 0, 3, 1).reshape(2 * rows, 2 * cols)
    height, width = packing.shape
    return np.ascontiguousarray(mosaic[packing.top : packing.top + height, packing.left : packing.left + width])
