"""Input checks shared by the transforms: one wording for every error a person can meet."""

from __future__ import annotations

import torch


def check_image_tensor(x: torch.Tensor, name: str = "input") -> None:
    """Raise unless ``x`` is a floating tensor of shape (B, C, H, W)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (B, C, H, W), got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{name} must have shape (B, C, H, W), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating tensor (float32 or float64), got {x.dtype}")


def check_divisible(x: torch.Tensor, factor: int, name: str = "input") -> None:
    """Raise a ValueError naming the size and factor unless H and W are multiples of ``factor``."""
    height, width = x.shape[-2:]
    if height % factor or width % factor:
        raise ValueError(
            f"{name} size {height}x{width} is not divisible by the block factor {factor}; "
            f"pad it to a multiple of {factor} first (the models replicate-pad automatically)"
        )
