"""The encodings a model can put in front of its network, by name.

Every encoding is an orthonormal block transform (:class:`~denoise.transforms.block.BlockTransform`):
``forward`` encodes (B, C, H, W) -> (B, C*f*f, H/f, W/f), ``inverse`` decodes exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from denoise.transforms.block import BlockTransform
from denoise.transforms.dct import BlockDCT
from denoise.transforms.haar import HaarDWT
from denoise.transforms.space_to_depth import SpaceToDepth
from denoise.utils.registry import Registry

ENCODINGS: Registry[Callable[..., BlockTransform]] = Registry(
    "encoding",
    {
        "space_to_depth": SpaceToDepth,  # options: r (default 2)
        "dct": BlockDCT,  # options: k (default 8), ycbcr (default False)
        "haar": HaarDWT,  # no options
    },
)


def create_encoding(name: str, **options: Any) -> BlockTransform:
    """Build the encoding called ``name`` with its ``options`` (see :data:`ENCODINGS`)."""
    factory = ENCODINGS.get(name)
    try:
        return factory(**options)
    except TypeError as error:
        raise ValueError(f"bad options {options} for encoding {name!r}: {error}") from None


def list_encodings() -> list[str]:
    """Names accepted by :func:`create_encoding`, sorted."""
    return ENCODINGS.names()
