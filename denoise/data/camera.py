"""A camera's processing and its inverse, for synthesising realistic noise (Brooks et al. 2019).

"Unprocessing Images for Learned Raw Denoising" (CVPR 2019) turns a clean sRGB image back into what a camera's
sensor would have recorded: undo the tone curve, the gamma, the colour correction and the white balance, then
keep one colour per pixel (the Bayer mosaic). Noise added there is the sensor's: signal-dependent shot noise
plus read noise. Processing it again (white balance, demosaicking, colour correction, gamma, tone curve) makes
that noise what a photo carries: correlated in space by the demosaicking, across channels by the colour
matrix, and shaped by the tone curve.

Every step is a pure function on (B, C, H, W) tensors on any device, with its inverse beside it; a
:class:`CameraParams` holds one random camera per image. Values are on [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import kornia
import torch

from denoise.data.colour_jitter import apply_colour_maps

# XYZ -> camera matrices of four cameras, as used by Brooks et al. (from their reference code).
XYZ_TO_CAMERAS = torch.tensor(
    [
        [[1.0234, -0.2969, -0.2266], [-0.5625, 1.6328, -0.0469], [-0.0703, 0.2188, 0.6406]],
        [[0.4913, -0.0541, -0.0202], [-0.613, 1.3513, 0.2906], [-0.1564, 0.2151, 0.7183]],
        [[0.838, -0.263, -0.0639], [-0.2887, 1.0725, 0.2496], [-0.0627, 0.1427, 0.5438]],
        [[0.6596, -0.2079, -0.0562], [-0.4782, 1.3016, 0.1933], [-0.097, 0.1581, 0.5181]],
    ]
)
RGB_TO_XYZ = torch.tensor(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
GAMMA = 2.2
EPSILON = 1e-8


@dataclass(frozen=True)
class CameraParams:
    """One random camera per image of a batch.

    Attributes:
        rgb_to_camera: (B, 3, 3) colour matrices, sRGB-linear -> camera RGB (rows sum to 1).
        rgb_gain: (B,) overall brightness gain; red_gain, blue_gain: (B,) white-balance gains.
    """

    rgb_to_camera: torch.Tensor
    rgb_gain: torch.Tensor
    red_gain: torch.Tensor
    blue_gain: torch.Tensor

    @staticmethod
    def random(batch: int, device=None, generator: torch.Generator | None = None) -> CameraParams:
        """Brooks et al.'s distribution: a random mix of the four cameras' matrices, gains around theirs."""

        def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
            return low + (high - low) * torch.rand(*shape, generator=generator, device=device)

        weights = uniform(1e-8, 1e8, batch, len(XYZ_TO_CAMERAS))
        weights = weights / weights.sum(dim=1, keepdim=True)
        xyz_to_camera = torch.einsum("bk,kij->bij", weights, XYZ_TO_CAMERAS.to(device))
        rgb_to_camera = xyz_to_camera @ RGB_TO_XYZ.to(device)
        rgb_to_camera = rgb_to_camera / rgb_to_camera.sum(dim=2, keepdim=True)
        rgb_gain = 1.0 / (0.8 + 0.1 * torch.randn(batch, generator=generator, device=device)).clamp(0.5, 1.2)
        return CameraParams(rgb_to_camera, rgb_gain, uniform(1.9, 2.4, batch), uniform(1.5, 1.9, batch))


def smoothstep(x: torch.Tensor) -> torch.Tensor:
    """A global tone curve, 3x^2 - 2x^3, on [0, 1]."""
    x = x.clamp(0.0, 1.0)
    return 3 * x**2 - 2 * x**3


def inverse_smoothstep(y: torch.Tensor) -> torch.Tensor:
    """The exact inverse of :func:`smoothstep` on [0, 1]."""
    y = y.clamp(0.0, 1.0)
    return 0.5 - torch.sin(torch.asin(1.0 - 2.0 * y) / 3.0)


def gamma_expansion(x: torch.Tensor) -> torch.Tensor:
    """sRGB-like gamma -> linear: x^2.2."""
    return x.clamp(min=EPSILON) ** GAMMA


def gamma_compression(x: torch.Tensor) -> torch.Tensor:
    """Linear -> gamma: x^(1/2.2), the inverse of :func:`gamma_expansion`."""
    return x.clamp(min=EPSILON) ** (1.0 / GAMMA)


apply_ccm = apply_colour_maps  # a colour matrix per image on every pixel: (B, 3, H, W), (B, 3, 3) -> (B, 3, H, W)


def _gains(params: CameraParams, dtype) -> torch.Tensor:
    """(B, 3, 1, 1) per-channel gains: white balance times the overall gain."""
    ones = torch.ones_like(params.red_gain)
    gains = torch.stack([params.red_gain, ones, params.blue_gain], dim=1) * params.rgb_gain[:, None]
    return gains[:, :, None, None].to(dtype)


def invert_gains(image: torch.Tensor, params: CameraParams) -> torch.Tensor:
    """Undo white balance and brightness, keeping highlights below saturation (Brooks et al.'s safe inverse)."""
    gains = _gains(params, image.dtype)
    grey = image.mean(dim=1, keepdim=True)
    inflection = 0.9
    mask = ((grey - inflection).clamp(min=0.0) / (1.0 - inflection)) ** 2
    safe = torch.maximum(mask + (1.0 - mask) / gains, 1.0 / gains)
    return image * safe


def apply_gains(image: torch.Tensor, params: CameraParams) -> torch.Tensor:
    """White balance and brightness, as a camera applies them (the inverse of :func:`invert_gains` below 0.9)."""
    return image * _gains(params, image.dtype)


def mosaic(image: torch.Tensor) -> torch.Tensor:
    """Keep one colour per pixel, RGGB. Shape: (B, 3, H, W), H and W even -> (B, 1, H, W)."""
    if image.shape[-2] % 2 or image.shape[-1] % 2:
        raise ValueError(f"a Bayer mosaic needs an even height and width, got {tuple(image.shape[-2:])}")
    bayer = torch.empty_like(image[:, :1])
    bayer[..., 0::2, 0::2] = image[:, 0:1, 0::2, 0::2]  # red
    bayer[..., 0::2, 1::2] = image[:, 1:2, 0::2, 1::2]  # green on red rows
    bayer[..., 1::2, 0::2] = image[:, 1:2, 1::2, 0::2]  # green on blue rows
    bayer[..., 1::2, 1::2] = image[:, 2:3, 1::2, 1::2]  # blue
    return bayer


def demosaic(bayer: torch.Tensor) -> torch.Tensor:
    """Bilinear demosaicking of an RGGB mosaic (kornia). Shape: (B, 1, H, W) -> (B, 3, H, W)."""
    # kornia names a pattern by the colours of the second row's first two pixels: RGGB is its BG
    return kornia.color.raw_to_rgb(bayer, kornia.color.CFA.BG)


def unprocess(srgb: torch.Tensor, params: CameraParams) -> torch.Tensor:
    """Clean sRGB -> linear camera RGB before white balance (not yet mosaicked). Shape: (B, 3, H, W)."""
    linear = gamma_expansion(inverse_smoothstep(srgb))
    camera = apply_ccm(linear, params.rgb_to_camera)
    return invert_gains(camera, params).clamp(0.0, 1.0)


def process(camera: torch.Tensor, params: CameraParams) -> torch.Tensor:
    """Linear camera RGB -> sRGB: white balance, colour correction, gamma, tone curve. Shape: (B, 3, H, W)."""
    balanced = apply_gains(camera, params).clamp(0.0, 1.0)
    linear = apply_ccm(balanced, torch.linalg.inv(params.rgb_to_camera)).clamp(0.0, 1.0)
    return smoothstep(gamma_compression(linear))


def random_noise_levels(
    batch: int, device=None, generator: torch.Generator | None = None, shot_range: tuple[float, float] = (1e-4, 1.2e-2)
) -> tuple[torch.Tensor, torch.Tensor]:
    """Shot and read noise of random ISOs: log shot uniform over ``shot_range``, log read on Brooks et al.'s line.

    ``log(read) = 2.18 log(shot) + 1.20 + N(0, 0.26)``, fitted to real cameras' noise profiles. Returns (B,) each:
    the noise variance of a pixel of linear value x is ``shot * x + read``.
    """
    low, high = (math.log(value) for value in shot_range)
    log_shot = low + (high - low) * torch.rand(batch, generator=generator, device=device)
    log_read = 2.18 * log_shot + 1.20 + 0.26 * torch.randn(batch, generator=generator, device=device)
    return log_shot.exp(), log_read.exp()


def add_sensor_noise(
    raw: torch.Tensor, shot: torch.Tensor, read: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Heteroscedastic Gaussian approximation of Poisson-Gaussian noise: variance ``shot * x + read`` per pixel.

    Shape: raw (B, C, H, W) on [0, 1], shot and read (B,) -> (B, C, H, W), unclipped.
    """
    variance = shot[:, None, None, None] * raw.clamp(min=0.0) + read[:, None, None, None]
    noise = torch.randn(raw.shape, generator=generator, device=raw.device, dtype=raw.dtype)
    return raw + variance.sqrt() * noise
