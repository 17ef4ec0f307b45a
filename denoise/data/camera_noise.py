"""Realistic camera noise for clean sRGB training patches: the sensor's noise, through a camera's processing.

Per patch (Brooks et al. 2019, :mod:`denoise.data.camera`): unprocess the clean sRGB patch to linear camera RGB,
mosaic it (RGGB), add shot and read noise of a random ISO, demosaic it and process it back to sRGB with the same
random camera. The noise is what the camera's processing made of the sensor noise: that rendering minus the
rendering of the noiseless mosaic. The camera then reduces and sharpens it (:mod:`denoise.data.noise_shaping`:
faint blotchy chroma, smoothed or sharpened luma), it is added to the clean patch, and with probability
``jpeg_p`` the result is compressed as JPEG at a random quality. With probability ``gaussian_p`` a patch gets the
white Gaussian noise of the existing recipe instead, so the model keeps that case. The training target is the
clean patch.

Only the noise is taken from the camera, not the rendering itself: a real photo's reference (the mean of many
shots) has the camera's demosaicking too, so the bilinear demosaicking's own errors on the clean patch (up to
28/255 RMS on textured BSD crops, several times the noise of a real photo) are not noise to remove. Models
trained before 2026-12-03's second session learned them as noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import kornia
import numpy as np
import torch

from denoise.data.camera import (
    CameraParams,
    add_sensor_noise,
    demosaic,
    mosaic,
    process,
    random_noise_levels,
    unprocess,
)
from denoise.data.noise_shaping import NoiseShaping, shape_noise

# The recipe's version, recorded in each training phase on camera noise (a checkpoint's ``runs``): 1 (phases
# that record none) rendered the noisy mosaic itself, so the demosaicking's errors on the clean patch came with
# the noise; 2 adds the rendered noise alone to the clean patch, its chroma damped.
RECIPE = 2


@dataclass(frozen=True)
class CameraNoise:
    """The distribution of the synthetic camera noise.

    Args:
        shot_range: range of the shot-noise factor (log-uniform); read noise follows it (Brooks et al.).
        jpeg_p: probability that a patch is JPEG-compressed after processing.
        jpeg_quality: (low, high) JPEG quality, drawn uniformly.
        gaussian_p: probability that a patch gets white Gaussian noise instead (sigma uniform up to
            ``gaussian_max``, on [0, 1]).
        gaussian_max: the largest Gaussian sigma.
        shaping: the camera's processing of the demosaicked noise.
    """

    shot_range: tuple[float, float] = (1e-4, 1.2e-2)
    jpeg_p: float = 0.5
    jpeg_quality: tuple[int, int] = (60, 95)
    gaussian_p: float = 0.2
    gaussian_max: float = 50 / 255
    shaping: NoiseShaping = field(default_factory=NoiseShaping)

    def __post_init__(self) -> None:
        low, high = self.shot_range
        if not 0 < low <= high:
            raise ValueError(f"shot_range must satisfy 0 < low <= high, got {self.shot_range}")
        if not 1 <= self.jpeg_quality[0] <= self.jpeg_quality[1] <= 100:
            raise ValueError(f"jpeg_quality must lie within [1, 100], low <= high, got {self.jpeg_quality}")
        for name in ("jpeg_p", "gaussian_p"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} is a probability in [0, 1], got {getattr(self, name)}")


def jpeg(image: torch.Tensor, quality: int) -> torch.Tensor:
    """One RGB image through JPEG at ``quality`` (OpenCV, 8 bits). Shape: (3, H, W) on [0, 1] -> same."""
    pixels = (image.clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", pixels[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1]
    return torch.from_numpy(decoded.astype(np.float32) / 255).permute(2, 0, 1).to(image.device, image.dtype)


def synthesise(clean: torch.Tensor, noise: CameraNoise, generator: torch.Generator | None = None) -> torch.Tensor:
    """Noisy versions of clean sRGB (or grey) patches.

    A grey patch goes through the camera as a neutral colour one and comes out as the luma (BT.601, as
    :func:`denoise.data.images.read_uint8` makes grey) of its noisy photo: a grey photo as a colour camera
    makes one. Its Gaussian patches get white grey noise.

    Shape: clean (B, C, P, P) on [0, 1], C 3 or 1, P even -> noisy (B, C, P, P), on [0, 1] where processed by
    the camera (the Gaussian patches are unclipped, as in the Gaussian recipe).
    """
    if clean.ndim != 4 or clean.shape[1] not in (1, 3):
        raise ValueError(f"camera noise needs (B, 3, H, W) RGB or (B, 1, H, W) grey patches, got {tuple(clean.shape)}")
    batch, device = clean.shape[0], clean.device
    noisy, draws = _through_a_camera(clean.expand(-1, 3, -1, -1), noise, generator)
    if clean.shape[1] == 1:
        noisy = kornia.color.rgb_to_grayscale(noisy)
    gaussian = draws[:, 2] < noise.gaussian_p
    if gaussian.any():
        sigma = noise.gaussian_max * torch.rand(batch, generator=generator, device=device)
        white = clean + sigma[:, None, None, None] * torch.randn(clean.shape, generator=generator, device=device)
        noisy = torch.where(gaussian[:, None, None, None], white, noisy)
    return noisy


def _through_a_camera(clean: torch.Tensor, noise: CameraNoise, generator: torch.Generator | None) -> tuple:
    """Sensor noise of a random ISO through a random camera's processing and JPEG.

    Shape: clean (B, 3, P, P) -> noisy (B, 3, P, P), and the (B, 3) uniform draws it used (JPEG?, its quality)
    and left for :func:`synthesise` (Gaussian instead?), drawn together as ever so a seed gives the same noise.
    """
    batch, device = clean.shape[0], clean.device
    params = CameraParams.random(batch, device, generator)
    shot, read = random_noise_levels(batch, device, generator, noise.shot_range)
    raw = mosaic(unprocess(clean, params))
    camera = demosaic(raw)
    noisy_camera = demosaic(add_sensor_noise(raw, shot, read, generator).clamp(0.0, 1.0))
    rendered_noise = process(noisy_camera, params) - process(camera, params)
    shaping = noise.shaping.draw(batch, device, generator)
    noisy = (clean + shape_noise(rendered_noise, *shaping)).clamp(0.0, 1.0)
    draws = torch.rand(batch, 3, generator=generator, device=device)  # jpeg?, its quality, gaussian?
    low, high = noise.jpeg_quality
    for index in range(batch):
        if draws[index, 0] < noise.jpeg_p:
            quality = round(low + (high - low) * float(draws[index, 1]))
            noisy[index] = jpeg(noisy[index], quality)
    return noisy, draws


def seeded_camera_noise(clean: torch.Tensor, seed: int) -> torch.Tensor:
    """Validation: the camera noise of :func:`synthesise` drawn from ``seed``, without the white Gaussian patches.

    Shape: clean (1, 3 or 1, H, W), H and W even, on [0, 1] -> noisy of the same shape. The same (image, seed) gives the
    same noise, so scores of two checkpoints compare.
    """
    generator = torch.Generator(device=clean.device).manual_seed(seed)
    return synthesise(clean, CameraNoise(gaussian_p=0.0), generator)
