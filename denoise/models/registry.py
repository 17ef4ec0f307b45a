"""One registry of denoising networks: ``@register_model(name)``, ``create_model``, ``list_models``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from denoise.utils.registry import Registry

MODELS: Registry[Callable[..., nn.Module]] = Registry("model")


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
