"""The registered networks: encoding + UNet body assembled into a residual denoiser.

They are classes (not factory functions) so that LightningCLI can build them from a config's
``class_path``; each records its full configuration in ``model_config``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from denoise.models.blocks import ConvBlock, ConvNeXtStage, Stage
from denoise.models.init import initialise
from denoise.models.registry import register_model
from denoise.models.residual import ResidualDenoiser
from denoise.models.unet import BlockFactory, UNet
from denoise.transforms.encodings import create_encoding


def _config(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A model's ``model_config``: its registered name, then every constructor argument (``widths`` a tuple)."""
    given = {key: value for key, value in arguments.items() if key not in ("self", "__class__")}
    return {"name": name, **given, **({"widths": tuple(given["widths"])} if "widths" in given else {})}


class _ResidualUNet(ResidualDenoiser):
    """Encoding -> UNet body with ``make_block`` -> residual; the shared assembly of the registered models.

    Args (the arguments every registered UNet takes; a subclass passes them on as ``**unet``):
        channels: image channels (1 grey, 3 RGB).
        encoding: ``space_to_depth``, ``dct`` or ``haar``; ``encoding_options`` e.g. ``{"k": 4}`` for dct.
        widths: channels per level; their count is the depth.
        downsample: ``maxpool``, ``strided`` (2x2 conv, stride 2) or ``haar`` (DWT + 1x1 conv).
    """

    def __init__(
        self,
        make_block: BlockFactory,
        refine_blocks: int,
        /,
        *,
        channels: int = 3,
        encoding: str = "space_to_depth",
        encoding_options: dict[str, Any] | None = None,
        widths: Sequence[int] = (32, 64, 128, 256),
        downsample: str = "maxpool",
    ) -> None:
        if channels < 1:
            raise ValueError(f"channels must be >= 1 (1 grey, 3 RGB), got {channels}")
        encoder = create_encoding(encoding, **(encoding_options or {}))
        coefficients = channels * encoder.expansion
        body = UNet(coefficients + channels, coefficients, widths, make_block, downsample, refine_blocks)
        super().__init__(encoder, body, channels)
        self.unet_arguments = {
            "channels": channels,
            "encoding": encoding,
            "encoding_options": encoding_options,
            "widths": widths,
            "downsample": downsample,
        }

    def _record(self, name: str, **own: Any) -> None:
        """Set ``model_config``: the registered ``name``, the shared UNet arguments and the subclass's ``own``."""
        self.model_config = _config(name, {**self.unet_arguments, **own})


@register_model("unet")
class UNetDenoiser(_ResidualUNet):
    """Plain UNet: ``blocks_per_level`` blocks of two 3x3 conv + LeakyReLU(0.2) per level and side,
    ``downsample`` between levels.

    Args:
        blocks_per_level: conv blocks in each encoder and decoder level (depth at every scale).
        refine_blocks: residual blocks at the finest level before the head (depth where detail is made); they
            start as the identity, so a trained network with fewer of them warm-starts this one exactly.
        init: ``torch`` (PyTorch's layer defaults) or ``kaiming`` (He init for the LeakyReLU blocks, which keeps
            the coarse levels alive at the start: :mod:`denoise.models.init`).
        **unet: ``channels``, ``encoding``, ``encoding_options``, ``widths``, ``downsample`` (see
            :class:`_ResidualUNet`).
    """

    def __init__(self, blocks_per_level: int = 1, refine_blocks: int = 0, init: str = "torch", **unet: Any) -> None:
        # one block is the block itself, not a one-block Stage: checkpoints keep their parameter names
        make_block = (
            ConvBlock if blocks_per_level == 1 else functools.partial(Stage, block=ConvBlock, depth=blocks_per_level)
        )
        super().__init__(make_block, refine_blocks, **unet)
        self._record("unet", blocks_per_level=blocks_per_level, refine_blocks=refine_blocks, init=init)
        initialise(init, self.body)


@register_model("convnext_unet")
class ConvNeXtUNetDenoiser(_ResidualUNet):
    """The UNet skeleton with ConvNeXt blocks (depthwise ``kernel_size`` conv, LN, 1x1 x2 + GELU + 1x1).

    Args:
        blocks_per_level: ConvNeXt blocks per level and side.
        kernel_size: the depthwise convolution's kernel.
        **unet: as :class:`UNetDenoiser`.
    """

    def __init__(self, blocks_per_level: int = 2, kernel_size: int = 7, **unet: Any) -> None:
        make_block = functools.partial(ConvNeXtStage, depth=blocks_per_level, kernel_size=kernel_size)
        super().__init__(make_block, 0, **unet)
        self._record("convnext_unet", blocks_per_level=blocks_per_level, kernel_size=kernel_size)
