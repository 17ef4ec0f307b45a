"""The noise level: validated once where it comes in, on the [0, 1] scale, then one tensor form to the noise map.

A user gives sigma as a number on the image's [0, 1] scale (0.1 is about 25.5/255) or as a per-pixel map; the
command line also takes ``--sigma255`` (the same number in 8-bit units, divided by 255 here and nowhere else).
:meth:`NoiseLevel.of` checks it, applies ``strength`` once and holds the result as one float32 tensor; the
denoiser, its tiles and the network's noise map take that tensor as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

EIGHT_BIT = 255.0
MAX_SIGMA = 1.0  # the whole intensity range: the strongest level a user may ask for


def parse_sigma(value: float, name: str = "sigma") -> float:
    """A user's noise level as a float on [0, 1], or a ValueError that says how to give it."""
    try:
        sigma = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number on the [0, 1] scale, got {value!r}") from None
    if math.isnan(sigma) or sigma < 0:
        raise ValueError(f"{name} must be a number >= 0 on the [0, 1] scale, got {sigma:g}")
    if sigma > MAX_SIGMA:
        raise ValueError(
            f"{name} {sigma:g} is above 1: sigma is on the [0, 1] scale; for {sigma:g}/255 use {sigma / EIGHT_BIT:.4f}"
            " (or --sigma255 on the command line)"
        )
    return sigma


def sigma_from_255(value: float) -> float:
    """The command line's ``--sigma255 S``: a level in 8-bit units, returned on the [0, 1] scale."""
    try:
        sigma255 = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"--sigma255 must be a number of 8-bit levels (0 to 255), got {value!r}") from None
    if math.isnan(sigma255) or not 0 <= sigma255 <= EIGHT_BIT:
        raise ValueError(f"--sigma255 must lie in [0, 255] (8-bit levels), got {sigma255:g}")
    return sigma255 / EIGHT_BIT


def parse_strength(value: float) -> float:
    """``strength``: a positive finite factor on sigma, or a ValueError."""
    strength = float(value)
    if not (strength > 0 and math.isfinite(strength)):
        raise ValueError(f"strength must be a positive number, got {value}")
    return strength


@dataclass(frozen=True)
class NoiseLevel:
    """A checked noise level with its strength applied, ready for a denoiser.

    Attributes:
        values: float32 tensor (1, 1, 1, 1) for one level, or a per-pixel map (1 or B, 1 or C, H, W), on
            [0, 1] scaled by the strength (a product above 1 is clipped to 1: the strongest level there is).
        number: the same level as a Python float when it is one number (exactly as given, times strength).
        blind: the network estimates the level itself and ``number`` is the strength it is scaled by
            (:meth:`estimated`); only a blind network (one with ``estimate``) takes such a level.
    """

    values: torch.Tensor
    number: float | None = None
    blind: bool = False

    @classmethod
    def estimated(cls, strength: float = 1.0) -> NoiseLevel:
        """The level a blind network estimates for itself, times ``strength``."""
        strength = parse_strength(strength)
        return cls(torch.tensor(strength, dtype=torch.float32).reshape(1, 1, 1, 1), strength, blind=True)

    @property
    def per_pixel(self) -> bool:
        return self.values.shape[-2:] != (1, 1)

    def image(self, index: int) -> NoiseLevel:
        """The level of image ``index`` of a batch (a map of one image serves every image)."""
        return NoiseLevel(self.values[min(index, self.values.shape[0] - 1)][None], self.number, self.blind)

    def scalar(self) -> float:
        """The one level of a non-map noise level (ValueError for a map)."""
        if self.per_pixel or self.blind:
            raise ValueError("this method takes one sigma per image, not a per-pixel map or its own estimate")
        return self.number if self.number is not None else float(self.values.reshape(-1)[0])

    @classmethod
    def of(cls, sigma, image_shape: tuple[int, ...] | None = None, strength: float = 1.0) -> NoiseLevel:
        """Check ``sigma`` and apply ``strength`` once.

        Args:
            sigma: a number on [0, 1]; or a per-pixel map on [0, 1]: NumPy H x W [x C] or a tensor
                (1 or B, 1 or C, H, W); or an existing NoiseLevel (returned as it is when ``strength`` is 1).
            image_shape: the image's H x W [x C] (NumPy) or (B, C, H, W) (tensor), to check a map against.
            strength: factor on sigma (< 1 keeps more detail, > 1 removes more).
        """
        strength = parse_strength(strength)
        if isinstance(sigma, NoiseLevel) and (strength == 1.0 or sigma.blind):
            return sigma if strength == 1.0 else cls.estimated(sigma.number * strength)
        if isinstance(sigma, NoiseLevel) and sigma.number is None:
            return cls((sigma.values * strength).clamp(max=MAX_SIGMA))
        if isinstance(sigma, NoiseLevel) or _is_number(sigma):
            given = sigma.number if isinstance(sigma, NoiseLevel) else parse_sigma(float(sigma))
            number = given if strength == 1.0 else min(given * strength, MAX_SIGMA)
            return cls(torch.tensor(number, dtype=torch.float32).reshape(1, 1, 1, 1), number)
        values = _checked_map(sigma, image_shape)
        return cls(values if strength == 1.0 else (values * strength).clamp_(max=MAX_SIGMA))


def _is_number(sigma) -> bool:
    if isinstance(sigma, torch.Tensor | np.ndarray):
        return sigma.ndim == 0 or sigma.size == 1 if isinstance(sigma, np.ndarray) else sigma.numel() == 1
    return np.isscalar(sigma)


def _checked_map(sigma, image_shape: tuple[int, ...] | None) -> torch.Tensor:
    """A per-pixel map as a float32 tensor (1 or B, 1 or C, H, W), checked against the image."""
    if isinstance(sigma, torch.Tensor):
        values = sigma.detach().to("cpu", torch.float32)
        spatial = tuple(image_shape[-2:]) if image_shape else None
        if values.ndim != 4:
            raise ValueError(f"a tensor sigma map must be (B, 1 or C, H, W), got shape {tuple(values.shape)}")
    else:
        array = np.asarray(sigma, dtype=np.float32)
        spatial = tuple(image_shape[:2]) if image_shape else None
        if array.ndim not in (2, 3) or (image_shape is not None and array.ndim > len(image_shape)):
            raise ValueError(f"sigma map of shape {array.shape} does not match the image {image_shape}")
        values = torch.from_numpy(array.reshape(*array.shape[:2], -1)).permute(2, 0, 1)[None]
    if spatial is not None and tuple(values.shape[-2:]) != spatial:
        raise ValueError(f"sigma map of shape {tuple(values.shape)} does not match the image {image_shape}")
    if not torch.isfinite(values).all() or (values < 0).any() or (values > MAX_SIGMA).any():
        raise ValueError("a sigma map must hold finite values in [0, 1] (sigma on the image's scale)")
    return values
