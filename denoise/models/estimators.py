"""Noise-level estimators of a blind denoiser: a noisy image in, a per-pixel, per-channel sigma map out.

``ESTIMATORS`` names them for :class:`denoise.models.blind.BlindUNetDenoiser` (its ``estimator`` argument):

- ``conv``: a plain CNN on the image, its softplus output the level. Trained through a frozen UNet it came out
  nearly constant (about 18 to 22/255 whatever the noise, real or synthetic): the level is a second-order
  statistic of small values (noise of a few grey levels), which a few ReLU layers of a default initialisation
  barely see, so the gradient found the best constant instead.
- ``energy``: the same CNN, also shown the local noise energy (the log RMS of the image's high-pass residual at
  two scales) and predicting a log-domain correction to it, so the map follows the noise from the first step
  and the network learns how far texture and the camera's correlated noise move the level the UNet wants.
- ``energy_image``: the same, averaged to one level per image (or tile) and channel.
"""

from __future__ import annotations

import math

import kornia
import torch
import torch.nn.functional as F
from torch import nn

ENERGY_SCALES = (1.0, 2.0)  # Gaussian sigmas (px) of the blurs whose residuals measure the noise energy
ENERGY_WINDOW = 15  # side of the box the energy is averaged over (px)
LOG_OFFSET = 4.0  # log RMS of 4.6 (0.01, about 2.5/255) maps to about -0.6: features of order 1


def _cnn(in_channels: int, out_channels: int, width: int, depth: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for index in range(depth):
        layers += [nn.Conv2d(in_channels if index == 0 else width, width, 3, padding=1), nn.ReLU(inplace=True)]
    layers.append(nn.Conv2d(width, out_channels, 3, padding=1))
    return nn.Sequential(*layers)


def local_log_rms(image: torch.Tensor, blur_sigma: float, window: int = ENERGY_WINDOW) -> torch.Tensor:
    """Natural log of the local RMS of ``image - gaussian_blur(image, blur_sigma)``, per channel.

    The residual keeps the noise and the finest texture; its mean square over a ``window`` box (replicate
    padded) is the local energy. Shape: (B, C, H, W) -> (B, C, H, W); about log(sigma) - 0.1 for white noise
    of std sigma on a flat image (the blur removes a little of it).
    """
    size = 2 * math.ceil(3 * blur_sigma) + 1
    blurred = kornia.filters.gaussian_blur2d(image, (size, size), (blur_sigma, blur_sigma), border_type="replicate")
    energy = (image - blurred).square()
    energy = kornia.filters.box_blur(energy, window, border_type="replicate", separable=True)  # O(window) per pixel
    return 0.5 * torch.log(energy + 1e-10)


class NoiseLevelEstimator(nn.Module):
    """``conv``: ``depth`` 3x3 conv + ReLU layers of ``width`` channels, then a softplus map.

    Shape: (B, C, H, W) -> (B, C, H, W), >= 0, on the image's scale.
    """

    def __init__(self, channels: int, width: int = 32, depth: int = 5) -> None:
        super().__init__()
        self.layers = _cnn(channels, channels, width, depth)

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        return F.softplus(self.layers(noisy)) * 0.1  # starts near 0.07 (about 18/255), a middling level


class EnergyNoiseEstimator(nn.Module):
    """``energy``: sigma = exp(log RMS of the fine residual + a learned correction), per pixel and channel.

    The CNN sees the image and its local log RMS at each of ``ENERGY_SCALES``; its last layer starts at zero, so
    an untrained estimator returns the fine residual's local RMS (a white-noise level, 0.87 sigma on flat
    areas, more on texture). Shape: (B, C, H, W) -> (B, C, H, W), in (0, 1].
    """

    def __init__(self, channels: int, width: int = 32, depth: int = 5) -> None:
        super().__init__()
        self.layers = _cnn(channels * (1 + len(ENERGY_SCALES)), channels, width, depth)
        nn.init.zeros_(self.layers[-1].weight)
        nn.init.zeros_(self.layers[-1].bias)

    def log_level(self, noisy: torch.Tensor) -> torch.Tensor:
        """The natural log of the level, <= 0. Shape: (B, C, H, W) -> (B, C, H, W)."""
        energies = [local_log_rms(noisy, scale) for scale in ENERGY_SCALES]
        features = torch.cat([noisy, *[energy + LOG_OFFSET for energy in energies]], dim=1)
        return (energies[0] + self.layers(features)).clamp(max=0.0)

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        return torch.exp(self.log_level(noisy))


class ImageEnergyNoiseEstimator(EnergyNoiseEstimator):
    """``energy_image``: the energy estimator's log level averaged over the image (or tile), per channel.

    One level per image and channel: the UNet adapts to texture itself, and a map that rises on texture and
    falls on flat areas tells it so twice (on real photos such a map scored below its own mean). Shape:
    (B, C, H, W) -> (B, C, H, W), constant over H and W, in (0, 1].
    """

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        return torch.exp(self.log_level(noisy).mean(dim=(2, 3), keepdim=True)).expand_as(noisy)


ESTIMATORS: dict[str, type[nn.Module]] = {
    "conv": NoiseLevelEstimator,
    "energy": EnergyNoiseEstimator,
    "energy_image": ImageEnergyNoiseEstimator,
}
