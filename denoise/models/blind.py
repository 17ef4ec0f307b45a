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
from torch import nn

from denoise.models.estimators import ESTIMATORS
from denoise.models.registry import register_model
from denoise.models.zoo import UNetDenoiser, _config


@register_model("blind_unet")
class BlindUNetDenoiser(nn.Module):
    """``forward(noisy, sigma=None)``: the estimated map (or ``sigma`` if given) into a non-blind UNet.

    Args:
        channels: image channels (1 grey, 3 RGB).
        widths, encoding, encoding_options, downsample, init: the UNet's (see :class:`UNetDenoiser`).
        estimator: the noise-level estimator, a name of :data:`denoise.models.estimators.ESTIMATORS`
            (``conv``, the first blind models', ``energy`` or ``energy_image``).
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
        estimator: str = "conv",
    ) -> None:
        super().__init__()
        if estimator not in ESTIMATORS:
            raise ValueError(f"unknown noise-level estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}")
        self.model_config = _config("blind_unet", locals())
        self.channels = channels
        self.estimator = ESTIMATORS[estimator](channels, estimator_width, estimator_depth)
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
