"""Inference precision: float32 (the default), or bfloat16 convolutions on processors that compute them natively.

Under :func:`autocast` with bfloat16 a network computes its convolutions in bfloat16 (8-bit mantissa, float32
accumulation) and the rest in float32; the residual denoiser subtracts its noise estimate from the float32
input. On a CPU with AVX512-BF16 or AMX instructions that about halves the shipped models' time, for a
little accuracy (``results/heldout_precision*.md``, ``make bench``). Elsewhere bfloat16 is emulated and
many times slower than float32, so it is refused there.

    >>> resolve_precision("float32", torch.device("cpu"))
    torch.float32
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch

from denoise.utils.registry import Registry

CPU_BFLOAT16_CHECKS = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")


def native_bfloat16(device: torch.device) -> bool:
    """True where ``device`` computes bfloat16 natively: a CPU with AVX512-BF16 or AMX, a CUDA GPU that has it."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in CPU_BFLOAT16_CHECKS)
    return False


def _bfloat16(device: torch.device) -> torch.dtype:
    if not native_bfloat16(device):
        what = "this CPU has no AVX512-BF16 or AMX instructions" if device.type == "cpu" else f"{device} lacks it"
        raise ValueError(f"bfloat16 needs hardware support ({what}): emulated it is many times slower than float32, "
                         "so use --precision float32")  # fmt: skip
    return torch.bfloat16


PRECISIONS: Registry[Callable[[torch.device], torch.dtype]] = Registry(
    "precision", {"float32": lambda device: torch.float32, "bfloat16": _bfloat16}
)


def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    """The compute dtype of ``precision`` (a name in :data:`PRECISIONS`) on ``device``; ValueError, saying what
    to do, for an unknown name or for bfloat16 where it would be emulated."""
    return PRECISIONS.get(precision)(device)


def autocast(dtype: torch.dtype, device: torch.device) -> contextlib.AbstractContextManager:
    """A context that runs convolutions in ``dtype`` (bfloat16), or changes nothing for float32."""
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)
