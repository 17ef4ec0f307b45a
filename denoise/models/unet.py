"""A UNet skeleton parameterised by its block, used by both ``unet`` and ``convnext_unet``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from denoise.models.blocks import ResidualBlock, make_downsample, make_upsample

BlockFactory = Callable[[int, int], nn.Module]


class UNet(nn.Module):
    """Encoder-decoder with skip concatenation.

    Level ``i`` runs ``make_block`` at width ``widths[i]``; between levels a 2x downsampling
    (``downsample``: maxpool, strided or haar) and, on the way up, a transposed conv, a concatenation with
    the skip and a block back to ``widths[i]``. ``refine_blocks`` residual blocks at ``widths[0]`` (identity at
    initialisation) follow the last decoder block; a 3x3 conv head maps ``widths[0]`` to ``out_channels``.

    Shape:
        (B, in_channels, H, W) -> (B, out_channels, H, W); H, W multiples of ``factor`` = 2**(len(widths)-1).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        widths: Sequence[int],
        make_block: BlockFactory,
        downsample: str = "maxpool",
        refine_blocks: int = 0,
    ) -> None:
        super().__init__()
        widths = [int(width) for width in widths]
        if not widths or min(widths) < 1:
            raise ValueError(f"widths must be a non-empty list of positive integers, got {widths}")
        self.factor = 2 ** (len(widths) - 1)
        inputs = [in_channels] + widths[:-1]
        self.encoders = nn.ModuleList(make_block(a, b) for a, b in zip(inputs, widths, strict=True))
        self.downs = nn.ModuleList(make_downsample(downsample, width) for width in widths[:-1])
        self.ups = nn.ModuleList(make_upsample(widths[i + 1], widths[i]) for i in range(len(widths) - 1))
        self.decoders = nn.ModuleList(make_block(2 * width, width) for width in widths[:-1])
        if refine_blocks < 0:
            raise ValueError(f"refine_blocks must be >= 0, got {refine_blocks}")
        self.refine = nn.Sequential(*(ResidualBlock(widths[0]) for _ in range(refine_blocks)))  # none: no weights
        self.head = nn.Conv2d(widths[0], out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for level, encoder in enumerate(self.encoders):
            x = encoder(x)
            if level < len(self.downs):
                skips.append(x)
                x = self.downs[level](x)
        for level in reversed(range(len(self.decoders))):
            x = self.ups[level](x)  # (B, widths[level], H_level, W_level)
            x = self.decoders[level](torch.cat([x, skips[level]], dim=1))
        return self.head(self.refine(x))
