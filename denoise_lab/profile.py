"""Measured model cost: parameters and multiply-accumulates per megapixel."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

# Convention of the published comparison tables (see the README): count at 256 x 256 and multiply by 16,
# i.e. one megapixel = 2**20 pixels.
PROFILE_SIZE = 256
PIXELS_PER_MEGAPIXEL = 2**20


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)


@torch.no_grad()
def gmacs_per_megapixel(model: nn.Module, channels: int, size: int = PROFILE_SIZE, sigma: bool = True) -> float:
    """Multiply-accumulates (in 1e9) of one forward pass per megapixel, measured by ``FlopCounterMode``.

    Counts the convolutions and matrix products (transposed convs and the fixed-weight encodings
    included), as the published figures do; element-wise work is not counted. ``sigma``: the model takes a
    noise level beside the image (ours do; a peer such as PMRID takes the image alone).
    """
    noisy = torch.rand(1, channels, size, size)
    counter = FlopCounterMode(display=False)
    with counter:
        model(noisy, 0.1) if sigma else model(noisy)
    macs = counter.get_total_flops() / 2
    return macs * PIXELS_PER_MEGAPIXEL / (size * size) / 1e9
