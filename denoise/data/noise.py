"""Noise synthesis for training, by name: white Gaussian noise of a given sigma, or a camera's (blind).

``TRAINING_NOISES[name](clean, sigma_min, sigma_max) -> (noisy, sigma, target)``: ``sigma`` is the noise level a
non-blind network is given ((B,) or a per-pixel map), or None for noise whose level the network must find
itself; ``target`` is what the network should output: the clean patch, or for raw its clean sensor planes.
"""

from __future__ import annotations

import torch

from denoise.data.camera_noise import CameraNoise, synthesise
from denoise.data.raw_synthesis import random_synthetic_raw
from denoise.utils.registry import Registry


def add_training_noise(
    clean: torch.Tensor, sigma_min: float, sigma_max: float, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy patches and their noise levels.

    Args:
        clean: patches on the [0, 1] scale.
        sigma_min, sigma_max: range of the noise std on the [0, 1] scale (e.g. 0 and 75/255).
        generator: optional random generator (on ``clean``'s device).

    Returns:
        (noisy, sigma): ``noisy = clean + sigma * N(0, 1)``, unclipped; ``sigma`` of shape (B,).

    Shape:
        clean: (B, C, H, W) -> noisy (B, C, H, W), sigma (B,).
    """
    batch = clean.shape[0]
    uniform = torch.rand(batch, device=clean.device, dtype=clean.dtype, generator=generator)
    sigma = sigma_min + (sigma_max - sigma_min) * uniform  # (B,)
    noise = torch.randn(clean.shape, device=clean.device, dtype=clean.dtype, generator=generator)
    return clean + sigma[:, None, None, None] * noise, sigma


def gaussian_training_noise(clean: torch.Tensor, sigma_min: float, sigma_max: float) -> tuple:
    """White Gaussian noise of a sigma the network is given (:func:`add_training_noise`)."""
    return (*add_training_noise(clean, sigma_min, sigma_max), clean)


def camera_training_noise(clean: torch.Tensor, sigma_min: float, sigma_max: float) -> tuple:
    """Realistic camera noise (:mod:`denoise.data.camera_noise`); its white Gaussian part spans ``sigma_max``."""
    return synthesise(clean, CameraNoise(gaussian_max=sigma_max)), None, clean


def raw_training_noise(clean: torch.Tensor, sigma_min: float, sigma_max: float) -> tuple:
    """Synthetic raw (:mod:`denoise.data.raw_synthesis`): noisy RGGB planes, their noise map, the clean planes.

    The ISO range sets the noise; ``sigma_min`` and ``sigma_max`` are not used.
    """
    batch = random_synthetic_raw(clean)
    return batch.noisy, batch.sigma, batch.clean


TRAINING_NOISES = Registry(
    "training noise",
    {"gaussian": gaussian_training_noise, "camera": camera_training_noise, "raw": raw_training_noise},
)
