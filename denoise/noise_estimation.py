"""Blind noise-level estimation: sigma of additive white Gaussian noise from the noisy image alone.

:func:`estimate_sigma` follows Chen, Zhu and Heng, "An Efficient Statistical Method for Image Noise Level
Estimation" (ICCV 2015): the eigenvalues of the covariance of the image's small patches split into a few
large ones (image structure) and a tail that only white noise explains; the noise variance is the mean
of the longest tail whose mean does not exceed its median. Textures barely bias it, unlike the
wavelet median-absolute-deviation estimator (scikit-image's ``estimate_sigma``), which
``python -m denoise_lab.studies.noise_estimation`` measures beside it.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import gamma

PATCH = 7
MAX_PATCHES = 200_000


def _patches(image: np.ndarray, patch: int, max_patches: int, seed: int) -> np.ndarray:
    """Overlapping patch x patch windows of every channel as rows (N, patch * patch), subsampled."""
    planes = image[..., None] if image.ndim == 2 else image
    windows = np.lib.stride_tricks.sliding_window_view(planes, (patch, patch), axis=(0, 1))  # (H', W', C, p, p)
    rows = windows.reshape(-1, patch * patch)
    if len(rows) > max_patches:
        rows = rows[np.random.default_rng(seed).choice(len(rows), max_patches, replace=False)]
    return rows.astype(np.float64)


def _tail_sigma(rows: np.ndarray) -> float:
    """Chen et al.: sqrt of the mean of the longest eigenvalue tail whose mean does not exceed its median."""
    eigenvalues = np.sort(np.linalg.eigvalsh(np.cov(rows, rowvar=False)))[::-1].clip(min=0)  # descending
    for start in range(len(eigenvalues)):
        tail = eigenvalues[start:]
        if tail.mean() <= np.median(tail):
            return float(np.sqrt(tail.mean()))
    return float(np.sqrt(eigenvalues[-1]))


def _texture_strength(rows: np.ndarray, patch: int) -> np.ndarray:
    """Sum of squared horizontal and vertical differences inside each patch (N,)."""
    windows = rows.reshape(-1, patch, patch)
    return (np.diff(windows, axis=2) ** 2).sum(axis=(1, 2)) + (np.diff(windows, axis=1) ** 2).sum(axis=(1, 2))


def estimate_sigma(image: np.ndarray, patch: int = PATCH, max_patches: int = MAX_PATCHES, iterations: int = 5) -> float:
    """Noise standard deviation of ``image`` (float H x W [x C]), in the image's units.

    Weak-texture patch selection (Liu, Tanaka and Okutomi, 2013) around the PCA tail estimate: patches whose
    gradient energy exceeds the 99th percentile expected of pure noise at the current estimate are dropped,
    and the estimate is recomputed on the rest, a few times. Colour channels are assumed to carry noise of
    the same level (their patches are pooled).
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or min(image.shape[:2]) < patch:
        raise ValueError(f"noise estimation needs an H x W [x C] image of at least {patch}x{patch}, got {image.shape}")
    rows = _patches(image, patch, max_patches, seed=0)
    strength = _texture_strength(rows, patch)
    differences = 2 * patch * (patch - 1)
    sigma = _tail_sigma(rows)
    for _ in range(iterations):
        # pure noise of std sigma: strength ~ Gamma(shape = differences / 2, scale = 4 sigma^2)
        # the unit-scale quantile times the scale: the same number, and no scipy warning when sigma is 0
        threshold = gamma.ppf(0.99, differences / 2) * 4 * sigma**2
        weak = rows[strength < threshold]
        if len(weak) < 4 * patch * patch:
            break
        updated = _tail_sigma(weak)
        if abs(updated - sigma) < 1e-4 * max(sigma, 1e-6):
            sigma = updated
            break
        sigma = updated
    return sigma
