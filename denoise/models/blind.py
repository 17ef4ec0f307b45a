"""A blind denoiser: a small network estimates the per-pixel noise level, a non-blind UNet removes the noise.

As in CBDNet (Guo et al. 2019), the estimate is a sigma map with one channel per image channel, so noise that
depends on the signal, and differs between channels after a camera's colour processing, gets a level per
pixel and channel. The map goes into the UNet's noise-map input, so the level stays an explicit, scalable
quantity: a caller may multiply it (``strength``) or replace it with its own.

With ``pixel_shuffle``, the output blends that denoising with the UNet's denoising of the image's four 2 x 2
sampling phases (:mod:`denoise.transforms.phases`, Zhou et al. 2020): within a phase a camera's spatially
correlated noise is nearly white, which is the noise the UNet was trained on. The phases' level (the map times
a learned scale) and the blend's weight are learned with the estimator. With ``phase_gate`` as well, the weight
is scaled per image by how correlated its noise is, measured on the image
(:func:`denoise.models.noise_correlation.correlation_gate`): white noise, which the phases only blur, turns the
blend off.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from denoise.models.estimators import ESTIMATORS
from denoise.models.noise_correlation import correlation_gate
from denoise.models.registry import register_model
from denoise.models.zoo import UNetDenoiser, _config
from denoise.transforms.noise_map import SigmaLike, is_per_pixel, sigma_as_tensor
from denoise.transforms.phases import merge_phases, split_phases

PHASE_FACTOR = 2  # the sampling phases of pixel_shuffle: 2 x 2


def _even_padding(x: torch.Tensor) -> tuple[int, int, int, int]:
    """``F.pad`` amounts that make H and W multiples of :data:`PHASE_FACTOR` (right and bottom)."""
    height, width = x.shape[-2:]
    return (0, width % PHASE_FACTOR, 0, height % PHASE_FACTOR)


@register_model("blind_unet")
class BlindUNetDenoiser(nn.Module):
    """``forward(noisy, sigma=None)``: the estimated map (or ``sigma`` if given) into a non-blind UNet.

    Args:
        channels: image channels (1 grey, 3 RGB).
        widths, encoding, encoding_options, downsample, init: the UNet's (see :class:`UNetDenoiser`).
        estimator: the noise-level estimator, a name of :data:`denoise.models.estimators.ESTIMATORS`
            (``conv``, the first blind models', ``energy`` or ``energy_image``).
        estimator_width, estimator_depth: the noise-level estimator's size.
        pixel_shuffle: blend in the denoising of the 2 x 2 sampling phases (see the module's text); images
            are then padded to twice the UNet's multiple, so the phases tile alike.
        phase_gate: scale the blend's weight by the measured correlation of each image's noise (0 for white
            noise, 1 for noise as correlated as demosaicked sensor noise); needs ``pixel_shuffle``.
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
        pixel_shuffle: bool = False,
        phase_gate: bool = False,
    ) -> None:
        super().__init__()
        if estimator not in ESTIMATORS:
            raise ValueError(f"unknown noise-level estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}")
        if phase_gate and not pixel_shuffle:
            raise ValueError("phase_gate scales the pixel-shuffle blend: it needs pixel_shuffle true")
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
        self.pixel_shuffle = pixel_shuffle
        self.phase_gate = phase_gate
        self.pad_multiple = self.denoiser.pad_multiple * (PHASE_FACTOR if pixel_shuffle else 1)
        if pixel_shuffle:  # the phases' level is the map times exp(phase_log_scale); their weight sigmoid(logit)
            self.phase_log_scale = nn.Parameter(torch.zeros(()))
            self.phase_logit = nn.Parameter(torch.zeros(()))

    def adopt(self, model: nn.Module) -> bool:
        """Start from a trained non-blind UNet of the same design (its weights become this denoiser's), or from
        a blind one that differs only in the blend (``pixel_shuffle``, ``phase_gate``; its estimator too, the
        blend's own weights where it has them, else their initialisation); False when ``model`` is neither."""
        config = {key: value for key, value in getattr(model, "model_config", {}).items() if key != "init"}
        if config == {key: value for key, value in self.denoiser.model_config.items() if key != "init"}:
            self.denoiser.load_state_dict(model.state_dict())
            return True
        blend = ("init", "pixel_shuffle", "phase_gate")
        mine = {key: value for key, value in self.model_config.items() if key not in blend}
        if {key: value for key, value in config.items() if key not in blend} != mine:
            return False
        missing, unexpected = self.load_state_dict(model.state_dict(), strict=False)
        if unexpected or any(not name.startswith("phase_") for name in missing):
            raise ValueError(f"blind networks differ beyond pixel_shuffle: {missing} missing, {unexpected} unexpected")
        return True

    @property
    def last_layer(self) -> nn.Module:
        """The layer that outputs the noise estimate (zero it and the model returns its input)."""
        return self.denoiser.last_layer

    def estimate(self, noisy: torch.Tensor) -> torch.Tensor:
        """The per-pixel noise level. Shape: (B, C, H, W) -> (B, C, H, W)."""
        return self.estimator(noisy)

    def forward(self, noisy: torch.Tensor, sigma: SigmaLike | None = None) -> torch.Tensor:
        """``sigma``: the level to use instead of the estimate, in any form of :func:`sigma_as_tensor`.
        Shape: (B, C, H, W) on [0, 1] -> (B, C, H, W)."""
        level = self.estimate(noisy) if sigma is None else sigma
        denoised = self.denoiser(noisy, level)
        if not self.pixel_shuffle:
            return denoised
        weight = torch.sigmoid(self.phase_logit)
        if self.phase_gate:
            gate = self.gate(noisy)
            if not gate.any():  # white noise everywhere: the blend is off, so its second UNet pass is skipped
                return denoised
            weight = weight * gate[:, None, None, None]
        return (1 - weight) * denoised + weight * self.denoise_phases(noisy, level)

    def gate(self, noisy: torch.Tensor) -> torch.Tensor:
        """:func:`correlation_gate` of each image, odd sizes replicate-padded to even. Shape: (B, C, H, W) -> (B,)."""
        return correlation_gate(F.pad(noisy, _even_padding(noisy), mode="replicate").float())

    def denoise_phases(self, noisy: torch.Tensor, level: SigmaLike) -> torch.Tensor:
        """The UNet on each 2 x 2 sampling phase at ``level`` times the learned scale, the phases put back.

        Shape: (B, C, H, W) -> (B, C, H, W); odd sizes are replicate-padded to even and cropped back.
        """
        height, width = noisy.shape[-2:]
        padding = _even_padding(noisy)
        level = sigma_as_tensor(level, noisy) * torch.exp(self.phase_log_scale)
        if is_per_pixel(level):
            level = split_phases(F.pad(level, padding, mode="replicate"), PHASE_FACTOR)
        else:  # one level per image (and channel): each image's phases share it
            level = level.repeat_interleave(PHASE_FACTOR * PHASE_FACTOR, dim=0) if level.shape[0] > 1 else level
        phases = split_phases(F.pad(noisy, padding, mode="replicate"), PHASE_FACTOR)
        return merge_phases(self.denoiser(phases, level), PHASE_FACTOR)[..., :height, :width]


def with_phase_blend(model: nn.Module) -> BlindUNetDenoiser:
    """``model`` (a blind network without the blend) with the gated pixel-shuffle blend added untrained: weight
    one half times the image's :func:`correlation_gate`, the phases at the estimated level itself. Its UNet and
    estimator are ``model``'s; it needs no training, as the gate has no weights.

    Raises ValueError for a model that is not a blind network, or that has a blend already.
    """
    config = dict(getattr(model, "model_config", {}))
    if config.get("name") != "blind_unet":
        raise ValueError(f"the pixel-shuffle blend belongs to a blind model; this is a {config.get('name')!r} network")
    if config.get("pixel_shuffle"):
        raise ValueError("this blind model has a pixel-shuffle blend already")
    config.pop("name")
    blended = BlindUNetDenoiser(**{**config, "pixel_shuffle": True, "phase_gate": True})
    blended.adopt(model)
    return blended.to(next(model.parameters()).device)


def with_denoiser(model: nn.Module, unet: nn.Module) -> BlindUNetDenoiser:
    """A copy of the blind network ``model`` whose UNet's weights are ``unet``'s (a non-blind UNet of the same
    design, e.g. a Gaussian model trained further): its estimator and blend stay ``model``'s, so the levels it
    hands the UNet are unchanged. ``model`` itself is not modified.

    Raises ValueError for a ``model`` that is not a blind network, or a ``unet`` of another design.
    """
    name = getattr(model, "model_config", {}).get("name")
    if name != "blind_unet":
        raise ValueError(f"--denoiser replaces a blind model's UNet; this is a {name!r} network")
    swapped = copy.deepcopy(model)
    if getattr(unet, "model_config", {}).get("name") != "unet" or not swapped.adopt(unet):
        theirs = {key: value for key, value in getattr(unet, "model_config", {}).items() if key != "init"}
        mine = {key: value for key, value in swapped.denoiser.model_config.items() if key != "init"}
        raise ValueError(f"the UNet to put in must have the blind model's design {mine}; it has {theirs}")
    return swapped
