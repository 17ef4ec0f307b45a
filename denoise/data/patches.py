"""Training patches: random crops of images cached in RAM as uint8, with flips and 90-degree rotations."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset


def augment(patch: np.ndarray, flip: bool, quarter_turns: int) -> np.ndarray:
    """Left-right flip (optional) then ``quarter_turns`` rotations by 90 degrees. Shape: H x W [x C]."""
    patch = patch[:, ::-1] if flip else patch
    return np.rot90(patch, quarter_turns, axes=(0, 1))


class PatchDataset(Dataset):
    """``length`` random patches per epoch, each from a random image.

    Args:
        images: uint8 arrays H x W (grey) or H x W x C; every side >= ``patch_size``.
        patch_size: side of the square patches.
        length: patches per epoch.
        seed: base seed; patch ``index`` of epoch ``epoch`` is fully determined by (seed, epoch, index).

    Returns per item: float32 tensor (C, patch_size, patch_size) on [0, 1].
    """

    def __init__(self, images: list[np.ndarray], patch_size: int, length: int, seed: int = 0) -> None:
        small = [image.shape[:2] for image in images if min(image.shape[:2]) < patch_size]
        if small:
            raise ValueError(f"patch_size {patch_size} exceeds some images (e.g. {small[0]}); use smaller patches")
        if not images:
            raise ValueError("no training images")
        self.images = images
        self.patch_size = patch_size
        self.length = length
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> torch.Tensor:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        image = self.images[rng.integers(len(self.images))]
        top = rng.integers(image.shape[0] - self.patch_size + 1)
        left = rng.integers(image.shape[1] - self.patch_size + 1)
        patch = image[top : top + self.patch_size, left : left + self.patch_size]
        patch = augment(patch, bool(rng.integers(2)), int(rng.integers(4)))
        patch = patch.reshape(self.patch_size, self.patch_size, -1)  # H x W x C, grey as C = 1
        return torch.from_numpy(np.ascontiguousarray(patch.transpose(2, 0, 1))).float() / 255.0  # (C, P, P)
