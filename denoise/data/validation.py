"""Validation images under the evaluation protocol: the same seeded noise the leaderboard uses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from denoise.data.images import read_uint8
from denoise.protocol import add_noise, image_seed


class ProtocolDataset(Dataset):
    """Each item: ``{"name", "clean8", "noisy": {sigma255: float32 image}}`` built by :mod:`denoise.protocol`.

    Images are H x W (grey) or H x W x 3; ``noisy`` is unclipped and unquantised, seeded per image, so a
    model scored here gets the leaderboard's numbers for the same images. With ``crop``, images larger than
    ``crop`` x ``crop`` are cut to their central crop first (the noise is drawn for the crop).
    """

    def __init__(self, paths: list[Path], sigmas: tuple[float, ...], grey: bool = False, crop: int | None = None):
        self.paths = paths
        self.sigmas = tuple(sigmas)
        self.grey = grey
        self.crop = crop

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> dict:
        path = self.paths[index]
        clean8 = read_uint8(path, grey=self.grey)
        if self.crop:
            clean8 = central_crop(clean8, self.crop)
        clean = clean8.astype(np.float32) / 255.0
        noisy = {sigma: add_noise(clean, sigma / 255.0, image_seed(path)) for sigma in self.sigmas}
        return {"name": path.name, "clean8": clean8, "noisy": noisy}


def central_crop(image: np.ndarray, size: int) -> np.ndarray:
    """The central ``size`` x ``size`` window of an H x W [x C] image (a side shorter than ``size`` is kept)."""
    height, width = image.shape[:2]
    top, left = max((height - size) // 2, 0), max((width - size) // 2, 0)
    return np.ascontiguousarray(image[top : top + size, left : left + size])


def even_crop(image: np.ndarray) -> np.ndarray:
    """The top-left part of an H x W [x C] image with an even height and width (a Bayer mosaic's need)."""
    return image[: image.shape[0] // 2 * 2, : image.shape[1] // 2 * 2]


def to_batch(image8: np.ndarray) -> torch.Tensor:
    """An 8-bit H x W x C (or H x W grey) image as a float32 batch of one, (1, C, H, W) on [0, 1]."""
    image8 = image8[..., None] if image8.ndim == 2 else image8
    return torch.from_numpy(image8.astype(np.float32) / 255).permute(2, 0, 1)[None]
