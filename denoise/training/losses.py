"""Reconstruction losses by name. Each maps (denoised, clean) of shape (B, C, H, W) to a scalar."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from denoise.utils.registry import Registry

CHARBONNIER_EPSILON = 1e-3


def charbonnier(denoised: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Mean of sqrt((x - y)^2 + eps^2): L1-like, smooth at 0."""
    return torch.sqrt((denoised - clean) ** 2 + CHARBONNIER_EPSILON**2).mean()


LOSSES: Registry[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = Registry(
    "loss", {"l1": F.l1_loss, "l2": F.mse_loss, "charbonnier": charbonnier}
)


def get_loss(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss ``name`` (``l1``, ``l2`` or ``charbonnier``): ``loss(denoised, clean)`` -> scalar tensor."""
    return LOSSES.get(name)
