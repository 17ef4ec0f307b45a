"""Small shared fixtures for the inference tests: random (untrained) checkpoints, test photos."""

from pathlib import Path

import numpy as np
import skimage.data
import torch

from denoise.checkpoint import save_checkpoint
from denoise.models import create_model

SMALL_WIDTHS = (16, 32, 32, 64)


def random_checkpoint(path: Path, channels: int = 3, seed: int = 0, **kwargs) -> Path:
    """Save a randomly initialised small UNet (never shipped: for tests only)."""
    torch.manual_seed(seed)
    model = create_model("unet", channels=channels, widths=kwargs.pop("widths", SMALL_WIDTHS), **kwargs)
    save_checkpoint(path, model, note="random weights for tests")
    return path


def photo(height: int = 96, width: int = 128, grey: bool = False) -> np.ndarray:
    """A crop of scikit-image's astronaut photo, float32 on [0, 1]."""
    image = skimage.data.astronaut()[:height, 100 : 100 + width].astype(np.float32) / 255
    return image.mean(axis=2) if grey else image
