"""Reconstruction losses by name. Each maps (denoised, clean) of shape (B, C, H, W) to a scalar."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from denoise.utils.registry import Registry

CHARBONNIER_EPSILON = 1e-3
LOG_MSE_FLOOR = 1e-10  # an MSE floor (100 dB) so a perfect patch has a finite loss


def charbonnier(denoised: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Mean of sqrt((x - y)^2 + eps^2): L1-like, smooth at 0."""
    return torch.sqrt((denoised - clean) ** 2 + CHARBONNIER_EPSILON**2).mean()


def log_mse(denoised: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of 10 log10 of each patch's MSE: minus the patches' mean PSNR (dB, peak 1).

    Every patch weighs the same in decibels, so a nearly clean patch counts as much as a very noisy one; with
    L1 or L2 the noisy patches' large errors dominate, and a noise-level estimator trained so learns to
    over-smooth the faint noise of a good photograph.
    """
    per_patch = (denoised - clean).square().flatten(1).mean(dim=1)
    return 10 * torch.log10(per_patch + LOG_MSE_FLOOR).mean()


LOSSES: Registry[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = Registry(
    "loss", {"l1": F.l1_loss, "l2": F.mse_loss, "charbonnier": charbonnier, "log_mse": log_mse}
)


def get_loss(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss ``name`` (``l1``, ``l2``, ``charbonnier``, ``log_mse``): ``loss(denoised, clean)`` -> a scalar."""
    return LOSSES.get(name)
