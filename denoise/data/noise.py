"""Noise synthesis for training: one sigma per patch, drawn uniformly, Gaussian noise added on the fly."""

from __future__ import annotations

import torch


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
