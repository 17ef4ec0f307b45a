"""The raw noise model: a pixel of normalised linear value x has noise variance ``shot * x + read``.

Shot noise (photon counting) grows with the signal, read noise does not: ``sigma(x) = sqrt(shot * x + read)``,
as the DNG NoiseProfile tag states it (one pair for all colour planes here). The pair comes, in this order of
preference, from the file's NoiseProfile tag, from the mosaic itself (:func:`estimate_profile`), or from the ISO
with the model of :func:`profile_from_iso`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import kornia
import numpy as np
import torch

# The stated ISO model: shot noise proportional to the analogue gain, SHOT_AT_ISO_100 at ISO 100, and read noise
# on Brooks et al.'s (2019) line log(read) = 2.18 log(shot) + 1.20, fitted to real cameras' noise profiles. ISO
# 100 to 25600 then spans shot 5e-5 to 1.3e-2, the range their synthetic data covers.
SHOT_AT_ISO_100 = 5e-5
READ_SLOPE, READ_INTERCEPT = 2.18, 1.20


@dataclass(frozen=True)
class NoiseProfile:
    """``sigma(x) = sqrt(shot * x + read)`` for a mosaic normalised to [0, 1] by its black and white levels.

    Attributes:
        shot, read: the variance's slope and offset (>= 0).
        source: where they came from, for the user (``NoiseProfile tag``, ``ISO 1600``, ``estimated``).
    """

    shot: float
    read: float
    source: str = "given"

    def __post_init__(self) -> None:
        if not (self.shot >= 0 and self.read >= 0 and math.isfinite(self.shot + self.read)):
            raise ValueError(f"a noise profile needs finite shot, read >= 0, got {self.shot:g}, {self.read:g}")

    def sigma(self, values: np.ndarray) -> np.ndarray:
        """Per-pixel noise std of ``values`` (any shape, normalised linear raw), float32."""
        variance = self.shot * np.clip(values, 0.0, None) + self.read
        return np.sqrt(variance, dtype=np.float32)


def sigma_map(planes: torch.Tensor, shot: torch.Tensor, read: torch.Tensor, window: int = 5) -> torch.Tensor:
    """The network's per-pixel noise map for noisy packed planes: sigma of their local mean level.

    The level is the ``window`` x ``window`` mean of each plane (the noisy pixel itself would carry its own
    noise into the map); training and inference both build the map here, so they agree.

    Shape: planes (B, 4, H, W), normalised linear raw; shot, read (B,) -> (B, 4, H, W), on [0, 1].
    """
    level = kornia.filters.box_blur(planes, window, border_type="replicate", separable=True)
    variance = shot[:, None, None, None] * level.clamp(min=0.0) + read[:, None, None, None]
    return variance.sqrt().clamp(max=1.0)


def profile_from_iso(iso: float) -> NoiseProfile:
    """The stated model's profile at ``iso`` (see :data:`SHOT_AT_ISO_100`)."""
    if not (iso > 0 and math.isfinite(iso)):
        raise ValueError(f"ISO must be a positive number, got {iso}")
    shot = SHOT_AT_ISO_100 * iso / 100
    read = math.exp(READ_SLOPE * math.log(shot) + READ_INTERCEPT)
    return NoiseProfile(shot, read, f"ISO {iso:g} (stated model)")


def estimate_profile(planes: np.ndarray, block: int = 8, bins: int = 16) -> NoiseProfile:
    """Estimate (shot, read) from packed planes (4, H, W) normalised to [0, 1].

    The two green planes sample the scene at diagonal neighbours, so in flat regions ``(G1 - G2) / sqrt(2)``
    is noise of the local level's variance. Per ``block`` x ``block`` block: the mean level and that
    difference's variance; per level bin, the median variance (edges and texture make some blocks too high,
    the median ignores them); then a least-squares line through the bins, clipped to >= 0.
    """
    if planes.ndim != 3 or planes.shape[0] != 4:
        raise ValueError(f"estimate_profile takes packed planes (4, H, W), got shape {planes.shape}")
    rows, cols = planes.shape[1] // block, planes.shape[2] // block
    if rows * cols < 4 * bins:
        raise ValueError(
            f"the mosaic is too small to estimate its noise ({planes.shape[1]} x {planes.shape[2]} per plane); "
            "give its ISO (--iso)"
        )
    crop = planes[:, : rows * block, : cols * block].astype(np.float64)
    g1, g2 = crop[1], crop[2]
    blocks = lambda image: image.reshape(rows, block, cols, block).transpose(0, 2, 1, 3).reshape(-1, block * block)  # noqa: E731
    level = blocks((g1 + g2) / 2).mean(axis=1)
    variance = (blocks((g1 - g2) / math.sqrt(2))).var(axis=1, ddof=1)
    keep = (level > 0.002) & (level < 0.9)  # away from black and clipping
    level, variance = level[keep], variance[keep]
    if level.size < 2 * bins:
        raise ValueError("the mosaic has too few unclipped regions to estimate its noise; give its ISO (--iso)")
    edges = np.quantile(level, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, level, side="right") - 1, 0, bins - 1)
    used = [b for b in range(bins) if (which == b).any()]
    points = [(np.median(level[which == b]), np.median(variance[which == b])) for b in used]
    x, y = np.array(points).T
    # the median of a chi-square variance sits below its mean: scale to the mean for block*block-1 degrees
    y = y / _median_to_mean(block * block - 1)
    shot, read = np.polyfit(x, y, 1)
    if shot < 0:
        shot, read = 0.0, float(np.mean(y))
    return NoiseProfile(float(shot), float(max(read, 0.0)), "estimated from the mosaic")


def _median_to_mean(degrees: int) -> float:
    """Median / mean of a chi-square variable with ``degrees`` degrees of freedom (Wilson-Hilferty)."""
    return (1 - 2 / (9 * degrees)) ** 3
