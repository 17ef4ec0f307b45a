"""Synthetic raw from clean sRGB images: the training data and the benchmark of the raw model.

Brooks et al. (2019): invert a camera's processing (tone curve, gamma, colour matrix, white balance) to linear
camera RGB, keep one colour per pixel (an RGGB mosaic, packed to four planes R, G1, G2, B), and add
Poisson-Gaussian noise of an ISO between 100 and 25600 (:mod:`denoise.raw.noise_profile`'s model, read noise
jittered around its line in training as in the paper). The clean planes are the target: what the sensor
would have recorded without noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from denoise.data.camera import CameraParams, add_sensor_noise, demosaic, mosaic, process, unprocess
from denoise.metrics import to_uint8
from denoise.raw.noise_profile import READ_INTERCEPT, READ_SLOPE, profile_from_iso, sigma_map

ISO_RANGE = (100.0, 25600.0)


@dataclass(frozen=True)
class SyntheticRaw:
    """A batch of synthetic raw: clean and noisy planes (B, 4, H/2, W/2), the noise map, shot and read (B,), and
    the camera that made it (to render it back to sRGB)."""

    clean: torch.Tensor
    noisy: torch.Tensor
    sigma: torch.Tensor
    shot: torch.Tensor
    read: torch.Tensor
    params: CameraParams


def clean_planes(srgb: torch.Tensor, params: CameraParams) -> torch.Tensor:
    """Clean sRGB (B, 3, H, W), H and W even, on [0, 1] -> packed RGGB planes (B, 4, H/2, W/2) of linear raw."""
    return F.pixel_unshuffle(mosaic(unprocess(srgb, params)), 2)  # channel 2i + j: pixel (i, j) of each block


def render(planes: torch.Tensor, params: CameraParams) -> torch.Tensor:
    """The fixed simple rendering of packed planes (B, 4, H, W) to sRGB (B, 3, 2H, 2W) on [0, 1]: bilinear
    demosaicking, then the camera's white balance, colour matrix, gamma and tone curve."""
    return process(demosaic(F.pixel_shuffle(planes.clamp(0.0, 1.0), 2)), params)


def rendered8(planes: torch.Tensor, params: CameraParams) -> np.ndarray:
    """The first image of ``planes`` (B, 4, H, W) rendered (:func:`render`) and quantised: (2H, 2W, 3) uint8, as
    the raw benchmark and the raw model's validation score it."""
    return to_uint8(render(planes.detach().float(), params)[0].permute(1, 2, 0).cpu().numpy())


def noisy_raw(
    clean: torch.Tensor,
    shot: torch.Tensor,
    read: torch.Tensor,
    params: CameraParams,
    generator: torch.Generator | None = None,
) -> SyntheticRaw:
    """Add the sensor noise of (shot, read) to clean planes and build the network's noise map."""
    noisy = add_sensor_noise(clean, shot, read, generator)
    return SyntheticRaw(clean, noisy, sigma_map(noisy, shot, read), shot, read, params)


def random_iso_noise(
    batch: int, device=None, generator: torch.Generator | None = None, iso_range: tuple[float, float] = ISO_RANGE
) -> tuple[torch.Tensor, torch.Tensor]:
    """(shot, read) of ISOs drawn log-uniformly over ``iso_range``; log read jittered by N(0, 0.26) (Brooks)."""
    low, high = (math.log(profile_from_iso(iso).shot) for iso in iso_range)
    log_shot = low + (high - low) * torch.rand(batch, generator=generator, device=device)
    jitter = 0.26 * torch.randn(batch, generator=generator, device=device)
    return log_shot.exp(), (READ_SLOPE * log_shot + READ_INTERCEPT + jitter).exp()


def random_synthetic_raw(srgb: torch.Tensor, generator: torch.Generator | None = None) -> SyntheticRaw:
    """Training batch: a random camera and a random ISO per patch. Shape: (B, 3, P, P), P even."""
    batch, device = srgb.shape[0], srgb.device
    params = CameraParams.random(batch, device, generator)
    shot, read = random_iso_noise(batch, device, generator)
    return noisy_raw(clean_planes(srgb, params), shot, read, params, generator)


def seeded_synthetic_raw(srgb: torch.Tensor, iso: float, seed: int) -> SyntheticRaw:
    """Benchmark and validation: the camera and the noise drawn from ``seed``, the ISO's profile exactly.

    Shape: (1, 3, H, W), H and W even, on [0, 1]. The same (image, iso, seed) gives the same bytes.
    """
    generator = torch.Generator(device=srgb.device).manual_seed(seed)
    params = CameraParams.random(srgb.shape[0], srgb.device, generator)
    profile = profile_from_iso(iso)
    shot = torch.full((srgb.shape[0],), profile.shot, device=srgb.device)
    read = torch.full((srgb.shape[0],), profile.read, device=srgb.device)
    return noisy_raw(clean_planes(srgb, params), shot, read, params, generator)
