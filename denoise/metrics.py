"""PSNR and SSIM under the project's evaluation protocol.

Convention (the one the published tables use): both images are uint8 on [0, 255], layout H x W (grey) or
H x W x C (colour, RGB); PSNR takes one MSE over all pixels and channels jointly, no border crop, data range
255; SSIM is scikit-image's ``structural_similarity`` with ``data_range=255`` (``channel_axis=-1`` for colour),
i.e. a 7x7 uniform window.
"""

from __future__ import annotations

import math

import numpy as np
from skimage.metrics import structural_similarity

DATA_RANGE = 255.0


def to_uint8(image: np.ndarray) -> np.ndarray:
    """``round(clip(image, 0, 1) * 255)`` as uint8: how a method's float output is scored."""
    return np.round(np.clip(image, 0.0, 1.0) * DATA_RANGE).astype(np.uint8)


def _check_pair(clean: np.ndarray, test: np.ndarray) -> None:
    if clean.shape != test.shape:
        raise ValueError(f"images to compare differ in shape: {clean.shape} vs {test.shape}")
    if clean.dtype != np.uint8 or test.dtype != np.uint8:
        raise TypeError(f"metrics take uint8 images (see to_uint8), got {clean.dtype} and {test.dtype}")


def psnr(clean: np.ndarray, test: np.ndarray) -> float:
    """PSNR in dB of uint8 ``test`` against uint8 ``clean`` (inf when identical)."""
    _check_pair(clean, test)
    mse = np.mean((clean.astype(np.float64) - test.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10.0 * math.log10(DATA_RANGE**2 / mse)


def ssim(clean: np.ndarray, test: np.ndarray) -> float:
    """SSIM of uint8 ``test`` against uint8 ``clean`` (scikit-image, data range 255)."""
    _check_pair(clean, test)
    channel_axis = -1 if clean.ndim == 3 else None
    return float(structural_similarity(clean, test, data_range=DATA_RANGE, channel_axis=channel_axis))


def raw_psnr(clean: np.ndarray, test: np.ndarray) -> float:
    """PSNR in dB of linear raw ``test`` against ``clean`` (normalised to [0, 1]; ``test`` clipped there first).

    The raw benchmark's metric: data range 1, one MSE over all planes, in float64.
    """
    if clean.shape != test.shape:
        raise ValueError(f"raw planes to compare differ in shape: {clean.shape} vs {test.shape}")
    mse = np.mean((np.clip(test, 0.0, 1.0).astype(np.float64) - np.clip(clean, 0.0, 1.0)) ** 2)
    return math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)
