"""Noise synthesis for training, by name: white Gaussian noise of a given sigma, or a camera's (blind).

``TRAINING_NOISES[name](clean, sigma_min, sigma_max) -> (noisy, sigma)``: ``sigma`` is the (B,) noise level a
non-blind network is given, or None for noise whose level the network must find itself.
"""

from __future__ import annotations

import torch

from denoise.data.camera_noise import CameraNoise, synthesise
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


def camera_training_noise(clean: torch.Tensor, sigma_min: float, sigma_max: float) -> tuple[torch.Tensor, None]:
    """Realistic camera noise (:mod:`denoise.data.camera_noise`); its white Gaussian part spans ``sigma_max``."""
    return synthesise(clean, CameraNoise(gaussian_max=sigma_max)), None


TRAINING_NOISES = Registry("training noise", {"gaussian": add_training_noise, "camera": camera_training_noise})
