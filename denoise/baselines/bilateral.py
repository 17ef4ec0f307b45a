"""Bilateral-filter denoiser with parameters tuned per noise level.

The filter's parameters come from sigma through a table tuned once on training images by
``python -m denoise_lab.tune_bilateral`` (its output, ``bilateral_table.json``, is committed). Between
table rows the colour-to-noise ratio and the spatial sigma are interpolated linearly in sigma; the number
of passes is that of the nearest row. Two paths compute the same filter:

- :func:`bilateral_denoise`: NumPy arrays through OpenCV's ``cv2.bilateralFilter`` on float32 (CPU).
- :func:`bilateral_denoise_torch`: tensors through kornia's ``bilateral_blur`` (any device, differentiable).

They agree within 2e-3 mean absolute difference on [0, 1] images (OpenCV's window is a disc and its colour
weights come from a lookup table; kornia's window is the full square): see ``tests/test_bilateral.py``.
Colour distance is the L1 sum over channels in both, the border is reflect-101 in both.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cv2
import kornia
import numpy as np
import torch
from torch import nn

from denoise.transforms._checks import check_image_tensor

TABLE_FILE = "bilateral_table.json"


@dataclass(frozen=True)
class BilateralParams:
    """OpenCV-style bilateral parameters on the [0, 1] intensity scale."""

    sigma_color: float
    sigma_space: float
    diameter: int
    passes: int


@functools.lru_cache(maxsize=4)
def load_table(path: str | None = None) -> tuple[dict, ...]:
    """The tuned rows (sigma255, sigma_color_ratio, sigma_space, passes), sorted by sigma255."""
    source = Path(path) if path else resources.files("denoise.baselines").joinpath(TABLE_FILE)
    try:
        rows = json.loads(source.read_text())["rows"]
    except (OSError, KeyError, json.JSONDecodeError) as error:
        raise RuntimeError(
            f"cannot read the bilateral table {source} ({error}); regenerate it with `make tune-bilateral`"
        ) from None
    return tuple(sorted(rows, key=lambda row: row["sigma255"]))


def diameter_for(sigma_space: float) -> int:
    """Window diameter covering two spatial sigmas on each side (odd)."""
    return 2 * math.ceil(2.0 * sigma_space) + 1


def bilateral_params(sigma: float, table: tuple[dict, ...] | None = None) -> BilateralParams:
    """Parameters for noise level ``sigma`` (on the [0, 1] scale) from the tuned table."""
    rows = table or load_table()
    level = min(max(sigma * 255.0, rows[0]["sigma255"]), rows[-1]["sigma255"])  # clamp to the tuned range
    upper = next(i for i, row in enumerate(rows) if row["sigma255"] >= level)
    lower = max(upper - 1, 0)
    low, high = rows[lower], rows[upper]
    span = high["sigma255"] - low["sigma255"]
    weight = (level - low["sigma255"]) / span if span else 0.0
    ratio = (1 - weight) * low["sigma_color_ratio"] + weight * high["sigma_color_ratio"]
    sigma_space = (1 - weight) * low["sigma_space"] + weight * high["sigma_space"]
    passes = (low if weight < 0.5 else high)["passes"]
    return BilateralParams(ratio * sigma, sigma_space, diameter_for(sigma_space), passes)


def _check_sigma(sigma: float) -> float:
    sigma = float(sigma)
    if not math.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a finite number >= 0 on the [0, 1] scale, got {sigma}")
    return sigma


def bilateral_denoise(image: np.ndarray, sigma: float, params: BilateralParams | None = None) -> np.ndarray:
    """Denoise with OpenCV's bilateral filter.

    Args:
        image: float32 H x W or H x W x C (C = 1 or 3) on the [0, 1] scale; values outside are allowed.
        sigma: noise standard deviation on the [0, 1] scale (0 returns a copy).
        params: explicit parameters instead of the tuned table's.

    Returns:
        float32 array of the input's shape.
    """
    sigma = _check_sigma(sigma)
    image = np.ascontiguousarray(image, dtype=np.float32)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3)):
        raise ValueError(f"image must be H x W or H x W x 1|3, got shape {image.shape}")
    if sigma == 0 and params is None:
        return image.copy()
    params = params or bilateral_params(sigma)
    result = image
    for _ in range(params.passes):
        result = cv2.bilateralFilter(result, params.diameter, params.sigma_color, params.sigma_space)
    return result.reshape(image.shape)


def bilateral_denoise_torch(image: torch.Tensor, sigma: float, params: BilateralParams | None = None) -> torch.Tensor:
    """The same filter on tensors through kornia (GPU capable, differentiable).

    Shape:
        (B, C, H, W) -> (B, C, H, W); values on the [0, 1] scale, outside allowed.
    """
    check_image_tensor(image, "image")
    sigma = _check_sigma(sigma)
    if sigma == 0 and params is None:
        return image.clone()
    params = params or bilateral_params(sigma)
    result = image
    for _ in range(params.passes):
        result = kornia.filters.bilateral_blur(
            result,
            params.diameter,
            params.sigma_color,
            (params.sigma_space, params.sigma_space),
            border_type="reflect",
            color_distance_type="l1",
        )
    return result


class BilateralDenoiser(nn.Module):
    """Thin module over :func:`bilateral_denoise_torch` with the networks' ``forward(noisy, sigma)``."""

    def forward(self, noisy: torch.Tensor, sigma: float) -> torch.Tensor:
        return bilateral_denoise_torch(noisy, sigma)
