"""Weight initialisations for the plain-conv UNet, by name.

PyTorch's default conv initialisation (``kaiming_uniform_(a=sqrt(5))``, weight variance ``1 / (3 fan_in)``)
shrinks the signal by about 0.4x per conv + LeakyReLU(0.2): through the eight encoder convs of a 4-level UNet
the coarse levels start silent and receive almost no gradient. ``kaiming`` draws every conv of the conv blocks
with He's variance for LeakyReLU(0.2) (``2 / ((1 + 0.2^2) fan_in)``) and every 2x2 stride-2 transposed conv
with variance ``1 / in_channels`` (its true fan-in: each output pixel sees one input pixel), so the signal keeps
its scale at every level. Biases start at zero, and so does the UNet's head: the untrained denoiser returns its
input (it predicts no noise) instead of subtracting a large random field. Refine blocks keep their own
initialisation (already the identity).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from torch import nn

from denoise.models.blocks import NEGATIVE_SLOPE, ConvBlock
from denoise.models.unet import UNet
from denoise.utils.registry import Registry


def kaiming_(module: nn.Module) -> nn.Module:
    """He-initialise the conv blocks and transposed convs inside ``module``, zero UNet heads; in place, returns it."""
    for block in module.modules():
        if isinstance(block, ConvBlock):
            for conv in (block.conv1, block.conv2):
                nn.init.kaiming_normal_(conv.weight, a=NEGATIVE_SLOPE, mode="fan_in", nonlinearity="leaky_relu")
                nn.init.zeros_(conv.bias)
        elif isinstance(block, nn.ConvTranspose2d):
            nn.init.normal_(block.weight, std=1.0 / math.sqrt(block.in_channels))
            nn.init.zeros_(block.bias)
        elif isinstance(block, UNet):
            nn.init.zeros_(block.head.weight)
            nn.init.zeros_(block.head.bias)
    return module


INITIALISERS: Registry[Callable[[nn.Module], nn.Module]] = Registry(
    "init",
    {
        "torch": lambda module: module,  # PyTorch's per-layer defaults, as the layers were built
        "kaiming": kaiming_,
    },
)


def same_network(config: dict, other: dict) -> bool:
    """Whether two model configs describe the same network, ignoring ``init`` (a checkpoint's weights replace it)."""
    return {**config, "init": None} == {**other, "init": None}


def initialise(name: str, module: nn.Module) -> nn.Module:
    """Apply the initialisation ``name`` (``torch`` or ``kaiming``) to ``module`` in place; returns it."""
    return INITIALISERS.get(name)(module)
