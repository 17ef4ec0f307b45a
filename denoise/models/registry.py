"""The networks and their trained weights, found in one place (timm's idea).

``@register_model(name)``, ``create_model`` and ``list_models`` for the architectures; ``PRETRAINED`` for the
weights that ship with the project, each naming its file, its architecture and the images it denoises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from denoise.utils.registry import Registry

MODELS: Registry[Callable[..., nn.Module]] = Registry("model")


RAW_PLANES = 4  # a raw model's "channels": the four packed sites of a Bayer mosaic (denoise.raw.cfa)


@dataclass(frozen=True)
class Pretrained:
    """Shipped weights: ``file`` in the checkpoint folder holds a network of registered ``model``."""

    file: str
    model: str
    channels: int  # the images it denoises: 1 grey, 3 colour, 4 packed Bayer raw
    summary: str
    blind: bool = False  # estimates its own noise level: the default when no sigma is given


PRETRAINED: Registry[Pretrained] = Registry(
    "pretrained model",
    {
        "denoise-colour": Pretrained("denoise-colour.pt", "unet", 3, "colour photos, white Gaussian noise"),
        "denoise-grey": Pretrained("denoise-grey.pt", "unet", 1, "grey photos, white Gaussian noise"),
        "denoise-real": Pretrained(
            "denoise-real.pt", "blind_unet", 3, "colour photos, real camera noise, no sigma needed", blind=True
        ),
        "denoise-real-grey": Pretrained(
            "denoise-real-grey.pt", "blind_unet", 1, "grey photos, real camera noise, no sigma needed", blind=True
        ),
        "denoise-raw": Pretrained(
            "denoise-raw.pt", "unet", RAW_PLANES, "camera raw: packed RGGB planes, noise map of the raw noise profile"
        ),
    },
)


def register_model(name: str) -> Callable[[type], type]:
    """Class decorator: register a network class under ``name``."""
    return MODELS.register(name)


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching the shell-style ``pattern``, sorted."""
    return MODELS.names(pattern)


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build the registered model ``name``.

    The returned module carries ``model_config = {"name": name, **all its arguments}``, enough to rebuild it
    (``create_model(**model.model_config)``): checkpoints store it beside the weights.
    """
    factory = MODELS.get(name)
    try:
        return factory(**kwargs)
    except TypeError as error:
        raise ValueError(f"bad arguments for model {name!r}: {error}") from None
