"""The registered networks: factories that assemble encoding + UNet body into a residual denoiser."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from denoise.models.blocks import ConvBlock, ConvNeXtStage
from denoise.models.registry import register_model
from denoise.models.residual import ResidualDenoiser
from denoise.models.unet import BlockFactory, UNet
from denoise.transforms.encodings import create_encoding


def _residual_unet(
    channels: int,
    encoding: str,
    encoding_options: dict[str, Any] | None,
    widths: Sequence[int],
    downsample: str,
    make_block: BlockFactory,
) -> ResidualDenoiser:
    if channels < 1:
        raise ValueError(f"channels must be >= 1 (1 grey, 3 RGB), got {channels}")
    encoder = create_encoding(encoding, **(encoding_options or {}))
    coefficients = channels * encoder.expansion
    body = UNet(coefficients + channels, coefficients, widths, make_block, downsample)
    return ResidualDenoiser(encoder, body, channels)


@register_model
def unet(
    channels: int = 3,
    encoding: str = "space_to_depth",
    encoding_options: dict[str, Any] | None = None,
    widths: Sequence[int] = (32, 64, 128, 256),
    downsample: str = "maxpool",
) -> ResidualDenoiser:
    """Plain UNet: two 3x3 conv + LeakyReLU(0.2) per level, ``downsample`` between levels.

    Args:
        channels: image channels (1 grey, 3 RGB).
        encoding: ``space_to_depth``, ``dct`` or ``haar``; ``encoding_options`` e.g. ``{"k": 4}`` for dct.
        widths: channels per level; their count is the depth.
        downsample: ``maxpool``, ``strided`` (2x2 conv, stride 2) or ``haar`` (DWT + 1x1 conv).
    """
    return _residual_unet(channels, encoding, encoding_options, widths, downsample, ConvBlock)


@register_model
def convnext_unet(
    channels: int = 3,
    encoding: str = "space_to_depth",
    encoding_options: dict[str, Any] | None = None,
    widths: Sequence[int] = (32, 64, 128, 256),
    downsample: str = "maxpool",
    blocks_per_level: int = 2,
    kernel_size: int = 7,
) -> ResidualDenoiser:
    """The UNet skeleton with ConvNeXt blocks (depthwise ``kernel_size`` conv, LN, 1x1 x2 + GELU + 1x1).

    Args: as :func:`unet`, plus ``blocks_per_level`` ConvNeXt blocks per level and their ``kernel_size``.
    """
    make_block = functools.partial(ConvNeXtStage, depth=blocks_per_level, kernel_size=kernel_size)
    return _residual_unet(channels, encoding, encoding_options, widths, downsample, make_block)
