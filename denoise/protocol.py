"""The evaluation protocol: seeded Gaussian noise, the method call, quantisation and scoring.

1. Clean image as uint8 (RGB for colour sets, one channel for grey sets); ``clean = img / 255`` float32.
2. ``noisy = clean + sigma/255 * N(0, 1)`` with a fixed seed per image, not clipped and not quantised.
3. The method runs with the true sigma; its output is scored as ``round(clip(out, 0, 1) * 255)``.
4. PSNR and SSIM as in :mod:`denoise.metrics`; time is the wall time of the method call alone.

The seed of an image is the CRC-32 of its file stem, so the same image gets the same noise pattern in every
run, on every machine, at every sigma (scaled by sigma).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from denoise.metrics import psnr, ssim, to_uint8

# A denoising method: (noisy float32 H x W [x C] on the [0, 1] scale, sigma on the [0, 1] scale) -> same shape.
Method = Callable[[np.ndarray, float], np.ndarray]


def image_seed(name: str | Path) -> int:
    """The recorded noise seed of an image: CRC-32 of its file stem."""
    return zlib.crc32(Path(name).stem.encode("utf-8"))


def add_noise(clean: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """``clean + sigma * N(0, 1)`` in float32, unclipped; ``sigma`` on the [0, 1] scale."""
    noise = np.random.default_rng(seed).standard_normal(clean.shape, dtype=np.float32)
    return (clean.astype(np.float32) + np.float32(sigma) * noise).astype(np.float32)


@dataclass(frozen=True)
class Score:
    """One method on one image at one sigma."""

    psnr: float
    ssim: float
    seconds: float
    megapixels: float
    seed: int


def score_image(method: Method, clean8: np.ndarray, sigma255: float, seed: int) -> Score:
    """Run the protocol for one uint8 image (H x W or H x W x C) at noise level ``sigma255`` (/255)."""
    clean = clean8.astype(np.float32) / 255.0
    sigma = sigma255 / 255.0
    noisy = add_noise(clean, sigma, seed)
    start = time.perf_counter()
    denoised = method(noisy, sigma)
    seconds = time.perf_counter() - start
    if denoised.shape != noisy.shape:
        raise ValueError(f"method returned shape {denoised.shape} for an input of shape {noisy.shape}")
    out8 = to_uint8(denoised)
    megapixels = clean8.shape[0] * clean8.shape[1] / 1e6
    return Score(psnr(clean8, out8), ssim(clean8, out8), seconds, megapixels, seed)
