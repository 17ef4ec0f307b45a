"""Noise synthesis for training, by name: white Gaussian noise of a given sigma, or a camera's (blind).

``TRAINING_NOISES[name](clean, sigma_min, sigma_max) -> TrainingBatch(noisy, sigma, target, render)``: ``sigma``
is the noise level a non-blind network is given ((B,) or a per-pixel map), or None for noise whose level the
network must find itself; ``target`` is what the network should output: the clean patch, or for raw its clean
sensor planes; ``render`` maps outputs to what a person sees (raw: the fixed simple rendering to sRGB), or is
None where the output already is that.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import torch

from denoise.data.camera_noise import CameraNoise, synthesise
from denoise.data.raw_synthesis import random_synthetic_raw, render
from denoise.utils.registry import Registry


class TrainingBatch(NamedTuple):
    """Noisy inputs, their noise level (or None), the target, and the rendering of outputs (or None)."""

    noisy: torch.Tensor
    sigma: torch.Tensor | None
    target: torch.Tensor
    render: Callable[[torch.Tensor], torch.Tensor] | None = None


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


def gaussian_training_noise(clean: torch.Tensor, sigma_min: float, sigma_max: float) -> TrainingBatch:
    """White Gaussian noise of a sigma the network is given (:func:`add_training_noise`)."""
    return TrainingBatch(*add_training_noise(clean, sigma_min, sigma_max), clean)


def camera_training_noise(clean: torch.Tensor, sigma_min: float, sigma_max: float) -> TrainingBatch:
    """Realistic camera noise (:mod:`denoise.data.camera_noise`); its white Gaussian part spans ``sigma_max``."""
    return TrainingBatch(synthesise(clean, CameraNoise(gaussian_max=sigma_max)), None, clean)


def raw_training_noise(clean: torch.Tensor, sigma_min: float, sigma_max: float) -> TrainingBatch:
    """Synthetic raw (:mod:`denoise.data.raw_synthesis`): noisy RGGB planes, their noise map, the clean planes,
    and each patch's camera's rendering of planes to sRGB.

    The ISO range sets the noise; ``sigma_min`` and ``sigma_max`` are not used.
    """
    batch = random_synthetic_raw(clean)
    return TrainingBatch(batch.noisy, batch.sigma, batch.clean, partial(render, params=batch.params))


TRAINING_NOISES = Registry(
    "training noise",
    {"gaussian": gaussian_training_noise, "camera": camera_training_noise, "raw": raw_training_noise},
)
