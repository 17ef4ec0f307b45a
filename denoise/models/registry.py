"""One registry of denoising networks: ``@register_model(name)``, ``create_model``, ``list_models``."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from torch import nn

_MODELS: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str) -> Callable[[type], type]:
    """Class decorator: register a network class under ``name``."""

    def register(model_class: type) -> type:
        if name in _MODELS:
            raise ValueError(f"model {name!r} is registered twice")
        _MODELS[name] = model_class
        return model_class

    return register


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching the shell-style ``pattern``, sorted."""
    return sorted(name for name in _MODELS if fnmatch.fnmatch(name, pattern))


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build the registered model ``name``.

    The returned module carries ``model_config = {"name": name, **all its arguments}``, enough to rebuild it
    (``create_model(**model.model_config)``): checkpoints store it beside the weights.
    """
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; registered models: {', '.join(list_models())}")
    try:
        return _MODELS[name](**kwargs)
    except TypeError as error:
        raise ValueError(f"bad arguments for model {name!r}: {error}") from None
