"""A camera's own noise reduction and sharpening, applied to the sensor noise of a synthetic photo.

Out of a camera, the noise of a JPEG is not the demosaicked sensor noise alone: the camera smooths its colour
(chroma) noise over several pixels and damps it, leaving faint blotches rather than grain, and smooths or
sharpens its brightness (luma) noise. Here that is done to the noise only, as the camera rendered it (sRGB, where
a camera's noise reduction works on its YCbCr output), in an opponent space (luma and two colour differences),
so the clean signal is untouched and the training target stays the clean image:

- chroma: a Gaussian blur of ``chroma_sigma`` pixels of the two colour-difference planes, times ``chroma_gain``;
- luma: ``luma_amount`` times an unsharp mask of radius 1 px (above 0 sharpens, below 0 smooths).

Pure functions on (B, 3, H, W) tensors on any device; :func:`to_opponent` and :func:`from_opponent` are each
other's inverse.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from kornia.filters import gaussian_blur2d

LUMA_RADIUS = 1.0  # the unsharp mask's Gaussian sigma, in pixels


def to_opponent(image: torch.Tensor) -> torch.Tensor:
    """RGB -> (luma, red - green, blue - green), luma the channels' mean. Shape: (B, 3, H, W) -> same."""
    red, green, blue = image.unbind(dim=1)
    return torch.stack([(red + green + blue) / 3, red - green, blue - green], dim=1)


def from_opponent(opponent: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`to_opponent`. Shape: (B, 3, H, W) -> same."""
    luma, red_green, blue_green = opponent.unbind(dim=1)
    green = luma - (red_green + blue_green) / 3
    return torch.stack([red_green + green, green, blue_green + green], dim=1)


def _blur(planes: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Gaussian blur of (B, C, H, W) with one sigma per image (B,), in pixels; sigma 0 leaves an image as it is."""
    size = 2 * int(torch.ceil(3 * sigma.max()).clamp(min=1)) + 1
    blurred = gaussian_blur2d(planes, size, sigma.clamp(min=1e-3)[:, None].expand(-1, 2), border_type="reflect")
    return torch.where((sigma > 0)[:, None, None, None], blurred, planes)


def shape_noise(
    noise: torch.Tensor,
    chroma_sigma: torch.Tensor,
    luma_amount: torch.Tensor,
    chroma_gain: torch.Tensor | None = None,
) -> torch.Tensor:
    """The camera's processing of the noise of each image.

    Shape: noise (B, 3, H, W); chroma_sigma (B,) >= 0 in pixels; luma_amount (B,); chroma_gain (B,) >= 0 or
    ``None`` (1) -> (B, 3, H, W). ``chroma_sigma`` 0, ``luma_amount`` 0 and ``chroma_gain`` 1 give ``noise`` back.
    """
    opponent = to_opponent(noise)
    luma = opponent[:, :1]
    detail = luma - _blur(luma, torch.full_like(luma_amount, LUMA_RADIUS))
    luma = luma + luma_amount[:, None, None, None] * detail
    chroma = _blur(opponent[:, 1:], chroma_sigma)
    if chroma_gain is not None:
        chroma = chroma * chroma_gain[:, None, None, None]
    return from_opponent(torch.cat([luma, chroma], dim=1))


@dataclass(frozen=True)
class NoiseShaping:
    """The distribution of the camera's processing: with probability ``p`` an image's noise is shaped, its
    chroma blurred by a sigma uniform in ``chroma_sigma`` and scaled by a gain uniform in ``chroma_gain``, its
    luma sharpened or smoothed by an amount uniform in ``luma_amount``."""

    p: float = 0.7
    chroma_sigma: tuple[float, float] = (0.5, 3.0)
    luma_amount: tuple[float, float] = (-0.6, 1.0)
    chroma_gain: tuple[float, float] = (0.2, 1.0)

    def __post_init__(self) -> None:
        if not 0 <= self.p <= 1:
            raise ValueError(f"the shaping probability p must lie in [0, 1], got {self.p}")
        if not 0 <= self.chroma_sigma[0] <= self.chroma_sigma[1]:
            raise ValueError(f"chroma_sigma must satisfy 0 <= low <= high, got {self.chroma_sigma}")
        if not -1 <= self.luma_amount[0] <= self.luma_amount[1]:
            raise ValueError(f"luma_amount must satisfy -1 <= low <= high, got {self.luma_amount}")
        if not 0 <= self.chroma_gain[0] <= self.chroma_gain[1]:
            raise ValueError(f"chroma_gain must satisfy 0 <= low <= high, got {self.chroma_gain}")

    def draw(self, batch: int, device=None, generator: torch.Generator | None = None) -> tuple[torch.Tensor, ...]:
        """(chroma_sigma, luma_amount, chroma_gain), (B,) each; 0, 0 and 1 for the images left unshaped."""
        draws = torch.rand(4, batch, generator=generator, device=device)
        shaped = draws[0] < self.p
        chroma = self.chroma_sigma[0] + (self.chroma_sigma[1] - self.chroma_sigma[0]) * draws[1]
        luma = self.luma_amount[0] + (self.luma_amount[1] - self.luma_amount[0]) * draws[2]
        gain = self.chroma_gain[0] + (self.chroma_gain[1] - self.chroma_gain[0]) * draws[3]
        return torch.where(shaped, chroma, 0.0), torch.where(shaped, luma, 0.0), torch.where(shaped, gain, 1.0)
