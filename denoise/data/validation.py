"""Validation images under the evaluation protocol: the same seeded noise the leaderboard uses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from denoise.data.images import read_uint8
from denoise.protocol import add_noise, image_seed


class ProtocolDataset(Dataset):
    """Each item: ``{"name", "clean8", "noisy": {sigma255: float32 image}}`` built by :mod:`denoise.protocol`.

    Images are H x W (grey) or H x W x 3; ``noisy`` is unclipped and unquantised, seeded per image, so a
    model scored here gets the leaderboard's numbers for the same images.
    """

    def __init__(self, paths: list[Path], sigmas: tuple[float, ...], grey: bool = False) -> None:
        self.paths = paths
        self.sigmas = tuple(sigmas)
        self.grey = grey

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> dict:
        path = self.paths[index]
        clean8 = read_uint8(path, grey=self.grey)
        clean = clean8.astype(np.float32) / 255.0
        noisy = {sigma: add_noise(clean, sigma / 255.0, image_seed(path)) for sigma in self.sigmas}
        return {"name": path.name, "clean8": clean8, "noisy": noisy}
