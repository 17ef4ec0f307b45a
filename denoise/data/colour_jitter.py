"""Colour augmentation of clean RGB training patches: saturation, hue and channel order, on the patches' device.

BSD images are weakly saturated (mean HSV saturation about 80/255, McMaster's about 140): a network trained on
them alone learns to treat strong chroma detail as noise. Each patch here gets its own random colour map, a
3 x 3 matrix applied to every pixel:

    A = M(s, theta) @ P,    M(s, theta) = J + s * R(theta) @ (I - J),    J = ones(3, 3) / 3

``P`` permutes the channels, ``I - J`` takes a pixel's chroma (its offset from the grey axis r = g = b),
``R(theta)`` rotates it about that axis (a hue rotation) and ``s`` scales it (saturation); ``J`` keeps the
pixel's grey level (the channel mean). Grey pixels stay grey, the mean of the channels is unchanged, and
``M(1 / s, -theta)`` undoes ``M(s, theta)`` exactly (:func:`colour_matrix`). Results are clipped to [0, 1]:
colours pushed out of the RGB cube saturate, as they do in a camera.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch

PERMUTATIONS = tuple(itertools.permutations(range(3)))  # the identity first


@dataclass(frozen=True)
class ColourJitter:
    """The random colour map's ranges; each part is applied to a patch with its own probability.

    Args:
        saturation: (low, high) range of the chroma scale ``s``, drawn uniformly (1 leaves the colours).
        saturation_p: probability that a patch's chroma is scaled.
        hue_p: probability that a patch's chroma is rotated, by an angle uniform in [-pi, pi).
        permute_p: probability that a patch's channels are permuted (uniformly among the 5 other orders).
    """

    saturation: tuple[float, float] = (1.0, 1.0)
    saturation_p: float = 0.0
    hue_p: float = 0.0
    permute_p: float = 0.0

    def __post_init__(self) -> None:
        low, high = self.saturation
        if not 0 < low <= high:
            raise ValueError(f"saturation range must satisfy 0 < low <= high, got {self.saturation}")
        for name in ("saturation_p", "hue_p", "permute_p"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} is a probability in [0, 1], got {getattr(self, name)}")

    @property
    def active(self) -> bool:
        """False when no patch can change (every probability 0, or a saturation range of exactly 1)."""
        scales = self.saturation_p > 0 and self.saturation != (1.0, 1.0)
        return scales or self.hue_p > 0 or self.permute_p > 0


def _grey_projection(device, dtype) -> torch.Tensor:
    return torch.full((3, 3), 1.0 / 3.0, device=device, dtype=dtype)


def colour_matrix(scale: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """``M(s, theta) = J + s R(theta) (I - J)``: scale and rotate the chroma about the grey axis.

    Args:
        scale: (B,) chroma scales ``s`` > 0.
        angle: (B,) rotation angles in radians about the axis (1, 1, 1).

    Returns:
        (B, 3, 3) matrices acting on RGB column vectors.
    """
    device, dtype = scale.device, scale.dtype
    axis = torch.full((3,), 1.0 / math.sqrt(3.0), device=device, dtype=dtype)
    cross = torch.tensor(  # K with K v = axis x v
        [[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]], device=device, dtype=dtype
    )
    grey = _grey_projection(device, dtype)
    eye = torch.eye(3, device=device, dtype=dtype)
    cos, sin = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    rotation = cos * eye + sin * cross + (1 - cos) * grey  # Rodrigues, with axis axis^T = J
    return grey + scale[:, None, None] * rotation @ (eye - grey)


def random_colour_maps(
    batch: int, jitter: ColourJitter, device=None, dtype=torch.float32, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``batch`` random colour maps ``A = M(s, theta) P`` drawn from ``jitter``. Returns (B, 3, 3)."""

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(batch, device=device, dtype=dtype, generator=generator)

    def chosen(p: float) -> torch.Tensor:
        return torch.rand(batch, device=device, generator=generator) < p

    scale = torch.where(chosen(jitter.saturation_p), uniform(*jitter.saturation), torch.ones((), dtype=dtype))
    angle = torch.where(chosen(jitter.hue_p), uniform(-math.pi, math.pi), torch.zeros((), dtype=dtype))
    other = torch.randint(1, len(PERMUTATIONS), (batch,), device=device, generator=generator)
    order = torch.where(chosen(jitter.permute_p), other, torch.zeros_like(other))
    permutations = torch.eye(3, device=device, dtype=dtype)[torch.tensor(PERMUTATIONS, device=device)]  # (6, 3, 3)
    return colour_matrix(scale, angle) @ permutations[order]


def apply_colour_maps(rgb: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """Apply one 3 x 3 map per image to every pixel, unclipped. Shape: (B, 3, H, W), (B, 3, 3) -> (B, 3, H, W)."""
    return torch.einsum("bij,bjhw->bihw", maps.to(rgb.dtype), rgb)


def jitter_colour(rgb: torch.Tensor, jitter: ColourJitter, generator: torch.Generator | None = None) -> torch.Tensor:
    """Clean RGB patches with random colour maps applied and clipped to [0, 1].

    Shape: (B, 3, P, P) on [0, 1] -> (B, 3, P, P) on [0, 1], same device and dtype.
    """
    if rgb.ndim != 4 or rgb.shape[1] != 3:
        raise ValueError(f"colour jitter needs (B, 3, H, W) RGB patches, got shape {tuple(rgb.shape)}")
    maps = random_colour_maps(rgb.shape[0], jitter, rgb.device, torch.float32, generator)
    return apply_colour_maps(rgb, maps).clamp_(0.0, 1.0)
