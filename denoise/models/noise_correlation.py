"""How spatially correlated an image's noise is, measured on the image alone: the gate of the blind model's
pixel-shuffle blend (:class:`denoise.models.blind.BlindUNetDenoiser`, ``phase_gate``).

White noise puts the same energy into the fine residual (the image minus its Gaussian blur) of the image and of
each of its 2 x 2 sampling phases. Noise correlated over neighbouring pixels, as a camera's demosaicking, noise
reduction and JPEG make it, is smooth at the scale of one pixel, so the full-resolution residual sees less of it
than the phases do, whose neighbours lie two pixels apart. The ratio of the two energies, taken over the
flattest windows of the image (where the residual is noise, not texture), is about :data:`WHITE_RATIO` for white
noise and :data:`DEMOSAICKED_RATIO` for white sensor noise after a bilinear demosaicking.
"""

from __future__ import annotations

import torch

from denoise.models.estimators import local_log_rms
from denoise.transforms.phases import split_phases

FLAT_FRACTION = 0.1  # the share of windows, the flattest by both energies, that the ratio is taken over
WINDOW = 15  # px at full resolution (7 in the half-resolution phases)
# The ratio on a flat image for white noise and for white RGGB mosaic noise after the bilinear demosaicking of
# denoise.data.camera.demosaic, at any level (measured by tests/test_noise_correlation.py)
WHITE_RATIO = 1.03
DEMOSAICKED_RATIO = 0.50
SUBSAMPLE = 7  # every 7th window value sets the flatness threshold (bounded cost on large tiles)


def phase_energy_ratio(noisy: torch.Tensor) -> torch.Tensor:
    """Fine-residual energy at full resolution over that of the 2 x 2 sampling phases, per image.

    Both are local mean squares of the residual of a 1-px Gaussian blur over the same windows, compared (as the
    mean log) over the :data:`FLAT_FRACTION` flattest of them (by the two energies together).

    Shape: (B, C, H, W), H and W even, on [0, 1] -> (B,): about 1 for white noise, lower for spatially
    correlated noise (and for a clean image's own texture).
    """
    batch, channels, height, width = noisy.shape
    if height % 2 or width % 2:
        raise ValueError(f"the phase energy ratio needs an even height and width, got {height}x{width}")
    full = local_log_rms(noisy, 1.0, WINDOW)[..., ::2, ::2]  # on the phases' grid
    phases = local_log_rms(split_phases(noisy, 2), 1.0, WINDOW // 2)
    phases = phases.reshape(batch, 4, channels, height // 2, width // 2).mean(dim=1)
    flat_phases, flat_full = phases.flatten(1), full.flatten(1)
    flatness = flat_phases + flat_full  # chosen by both alike, so white noise's chance lows do not bias the ratio
    sample = flatness[:, ::SUBSAMPLE]
    count = max(1, int(FLAT_FRACTION * sample.shape[1]))
    flat = (flatness <= sample.kthvalue(count, dim=1).values[:, None]).float()
    difference = ((flat_full - flat_phases) * flat).sum(dim=1) / flat.sum(dim=1).clamp(min=1)
    return torch.exp(2 * difference)


def correlation_gate(noisy: torch.Tensor) -> torch.Tensor:
    """0 for white noise, 1 for noise at least as correlated as demosaicked sensor noise, linear between.

    Shape: (B, C, H, W), H and W even -> (B,) on [0, 1].
    """
    ratio = phase_energy_ratio(noisy)
    return ((WHITE_RATIO - ratio) / (WHITE_RATIO - DEMOSAICKED_RATIO)).clamp(0.0, 1.0)
