"""A blind denoiser: a small network estimates the per-pixel noise level, a non-blind UNet removes the noise.

As in CBDNet (Guo et al. 2019), the estimate is a sigma map with one channel per image channel, so noise that
depends on the signal, and differs between channels after a camera's colour processing, gets a level per
pixel and channel. The map goes into the UNet's noise-map input, so the level stays an explicit, scalable
quantity: a caller may multiply it (``strength``) or replace it with its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from denoise.models.registry import register_model
from denoise.models.zoo import UNetDenoiser, _config


class NoiseLevelEstimator(nn.Module):
    """Fully convolutional: ``depth`` 3x3 conv + ReLU layers of ``width`` channels, then a softplus map.

    Shape: (B, C, H, W) -> (B, C, H, W), >= 0, on the image's scale.
    """

    def __init__(self, channels: int, width: int = 32, depth: int = 5) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for index in range(depth):
            layers += [nn.Conv2d(channels if index == 0 else width, width, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(width, channels, 3, padding=1))
        self.layers = nn.Sequential(*layers)

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        return F.softplus(self.layers(noisy)) * 0.1  # starts near 0.07 (about 18/255), a middling level


@register_model("blind_unet")
class BlindUNetDenoiser(nn.Module):
    """``forward(noisy, sigma=None)``: the estimated map (or ``sigma`` if given) into a non-blind UNet.

    Args:
        channels: image channels (1 grey, 3 RGB).
        widths, encoding, encoding_options, downsample, init: the UNet's (see :class:`UNetDenoiser`).
        estimator_width, estimator_depth: the noise-level estimator's size.
    """

    def __init__(
        self,
        channels: int = 3,
        widths: Sequence[int] = (64, 96, 128, 256),
        encoding: str = "space_to_depth",
        encoding_options: dict[str, Any] | None = None,
        downsample: str = "maxpool",
        init: str = "torch",
        estimator_width: int = 32,
        estimator_depth: int = 5,
    ) -> None:
        super().__init__()
        self.model_config = _config("blind_unet", locals())
        self.channels = channels
        self.estimator = NoiseLevelEstimator(channels, estimator_width, estimator_depth)
        self.denoiser = UNetDenoiser(
            channels=channels,
            encoding=encoding,
            encoding_options=encoding_options,
            widths=widths,
            downsample=downsample,
            init=init,
        )
        self.pad_multiple = self.denoiser.pad_multiple

    def adopt(self, model: nn.Module) -> bool:
        """Start from a trained non-blind UNet of the same design (its weights become this denoiser's);
        False when ``model`` is not one."""
        config = dict(getattr(model, "model_config", {}))
        mine = {key: value for key, value in self.denoiser.model_config.items() if key != "init"}
        if {key: value for key, value in config.items() if key != "init"} != mine:
            return False
        self.denoiser.load_state_dict(model.state_dict())
        return True

    @property
    def last_layer(self) -> nn.Module:
        """The layer that outputs the noise estimate (zero it and the model returns its input)."""
        return self.denoiser.last_layer

    def estimate(self, noisy: torch.Tensor) -> torch.Tensor:
        """The per-pixel noise level. Shape: (B, C, H, W) -> (B, C, H, W)."""
        return self.estimator(noisy)

    def forward(self, noisy: torch.Tensor, sigma: torch.Tensor | float | None = None) -> torch.Tensor:
        return self.denoiser(noisy, self.estimate(noisy) if sigma is None else sigma)
