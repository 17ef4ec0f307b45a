"""BM3D for raw through a variance-stabilising transform: the classical raw peer.

The generalised Anscombe transform (Starck et al. 1998; Makitalo & Foi 2013) turns Poisson-Gaussian noise of
variance ``shot * x + read`` into noise of variance close to 1, so a denoiser for white Gaussian noise applies;
the closed-form approximation of the exact unbiased inverse (Makitalo & Foi) brings the result back without
the bias that the plain algebraic inverse leaves at low counts.
"""

from __future__ import annotations

import math

import numpy as np


def anscombe(values: np.ndarray, shot: float, read: float) -> np.ndarray:
    """Generalised Anscombe transform: noise of variance ``shot * x + read`` -> variance ~1."""
    return 2.0 / shot * np.sqrt(np.maximum(shot * values + 3.0 / 8.0 * shot**2 + read, 0.0))


def inverse_anscombe(stabilised: np.ndarray, shot: float, read: float) -> np.ndarray:
    """The algebraic inverse of :func:`anscombe` (exact where the square root's argument was >= 0)."""
    return ((shot * stabilised / 2.0) ** 2 - 3.0 / 8.0 * shot**2 - read) / shot


def unbiased_inverse_anscombe(stabilised: np.ndarray, shot: float, read: float) -> np.ndarray:
    """Closed-form approximation of the exact unbiased inverse (Makitalo & Foi 2013), for denoised values."""
    d = np.maximum(stabilised, 1.0)
    sigma = math.sqrt(read) / shot  # the Gaussian part in units of the Poisson gain
    c = math.sqrt(1.5)
    counts = 0.25 * d**2 + 0.25 * c / d - 11.0 / 8.0 / d**2 + 0.625 * c / d**3 - 0.125 - sigma**2
    return np.maximum(counts, 0.0) * shot


def bm3d_vst_denoise(planes: np.ndarray, shot: float, read: float) -> np.ndarray:
    """BM3D (``bm3d`` package, ``peers`` extra) on each packed plane (4, H, W) of linear raw, through the VST."""
    import bm3d

    out = np.empty_like(planes, dtype=np.float32)
    for index, plane in enumerate(planes):
        stabilised = anscombe(plane.astype(np.float64), shot, read)
        scale = max(float(stabilised.max()), 1e-6)  # BM3D at sigma 1/scale on [0, ~1]
        denoised = np.asarray(bm3d.bm3d(stabilised / scale, 1.0 / scale), dtype=np.float64) * scale
        out[index] = unbiased_inverse_anscombe(denoised, shot, read)
    return out
