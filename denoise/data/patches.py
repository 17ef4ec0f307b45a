"""Training patches: random crops of images cached as uint8, with flips and 90-degree rotations.

Choosing patches and cutting them are split. A ``PatchSampler`` item is a whole batch's *plan*: for each patch an
image, a top-left corner and one of the eight symmetries, a few integers. ``PatchBank`` keeps every training
image in one flat uint8 tensor and cuts the planned patches with a single gather on whatever device it sits on:
in a GPU run the pixels go to the GPU once, and each step moves a few hundred bytes instead of megabytes of
float patches, with no worker processes.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch.utils.data import Dataset

SYMMETRIES = 8  # symmetry s: left-right flip if s >= 4, then s % 4 quarter turns


def augment(patch: np.ndarray, flip: bool, quarter_turns: int) -> np.ndarray:
    """Left-right flip (optional) then ``quarter_turns`` rotations by 90 degrees. Shape: H x W [x C]."""
    patch = patch[:, ::-1] if flip else patch
    return np.rot90(patch, quarter_turns, axes=(0, 1))


@functools.lru_cache(maxsize=8)
def symmetry_offsets(patch_size: int, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Where each pixel of a transformed patch comes from, for the eight symmetries, on ``device``.

    Cached: a training run builds (and moves) them once, not every step.

    Returns:
        (rows, cols): int64 tensors (8, P, P); output pixel (i, j) of a patch under symmetry s is the source
        patch's pixel (rows[s, i, j], cols[s, i, j]). Built by applying :func:`augment` to the index grid, so
        the two agree by construction.
    """
    index = np.arange(patch_size * patch_size).reshape(patch_size, patch_size)
    grids = np.stack([augment(index, s >= 4, s % 4) for s in range(SYMMETRIES)])  # (8, P, P) flat indices
    grids = torch.from_numpy(np.ascontiguousarray(grids)).to(device)
    return grids // patch_size, grids % patch_size


class PatchBank:
    """Every training image in one flat uint8 tensor, cut into patches on the tensor's device.

    Args:
        images: uint8 arrays H x W (grey) or H x W x C, all with the same number of channels.

    Attributes:
        sizes: (height, width) of each image, in order.
        channels: C (1 for grey).
    """

    def __init__(self, images: list[np.ndarray]) -> None:
        if not images:
            raise ValueError("no training images")
        shaped = [image.reshape(image.shape[0], image.shape[1], -1) for image in images]  # H x W x C
        channels = {image.shape[2] for image in shaped}
        if len(channels) != 1:
            raise ValueError(f"training images mix channel counts {sorted(channels)}; load them all grey or colour")
        self.channels = channels.pop()
        self.sizes = [image.shape[:2] for image in shaped]
        lengths = torch.tensor([image.size for image in shaped])
        self.pixels = torch.from_numpy(np.concatenate([image.ravel() for image in shaped]))  # uint8, all images
        self.offsets = torch.cumsum(lengths, 0) - lengths  # (N,): where each image starts in ``pixels``
        self.widths = torch.tensor([width for _, width in self.sizes])  # (N,)

    def to(self, device: torch.device | str) -> PatchBank:
        """Move the pixels and the index tables to ``device`` (in place); returns self."""
        self.pixels, self.offsets, self.widths = (t.to(device) for t in (self.pixels, self.offsets, self.widths))
        return self

    def crop(self, plan: torch.Tensor, patch_size: int) -> torch.Tensor:
        """Cut the planned patches.

        Args:
            plan: int64 (B, 4) rows of (image, top, left, symmetry), as made by :class:`PatchSampler`; moved to
                the bank's device if elsewhere.
            patch_size: P.

        Returns:
            float32 (B, C, P, P) on [0, 1], on the bank's device.
        """
        plan = plan.to(self.pixels.device)
        rows, cols = symmetry_offsets(patch_size, plan.device)
        image, top, left, symmetry = plan.unbind(1)
        rows = top[:, None, None] + rows[symmetry]  # (B, P, P) source rows
        cols = left[:, None, None] + cols[symmetry]  # (B, P, P) source columns
        start = self.offsets[image][:, None, None] + (rows * self.widths[image][:, None, None] + cols) * self.channels
        index = start[..., None] + torch.arange(self.channels, device=plan.device)  # (B, P, P, C)
        patches = self.pixels[index].permute(0, 3, 1, 2)  # (B, C, P, P)
        return patches.contiguous().float() / 255.0


class PatchSampler(Dataset):
    """``batches`` plans of ``batch_size`` random patches per epoch; each patch from a random image.

    Args:
        sizes: (height, width) of each training image; every side >= ``patch_size``.
        patch_size: side of the square patches.
        batch_size: patches per plan.
        batches: plans (steps) per epoch.
        seed: base seed; plan ``index`` of epoch ``epoch`` is fully determined by (seed, epoch, index).
        by_area: draw each patch's image with probability proportional to its area (its pixels), so a large
            photograph gives proportionally more patches than a small one; otherwise every image is equally
            likely.

    Returns per item: int64 (batch_size, 4) rows of (image, top, left, symmetry), for :meth:`PatchBank.crop`.
    """

    def __init__(
        self,
        sizes: list[tuple[int, int]],
        patch_size: int,
        batch_size: int,
        batches: int,
        seed: int = 0,
        by_area: bool = False,
    ):
        small = [size for size in sizes if min(size) < patch_size]
        if small:
            raise ValueError(f"patch_size {patch_size} exceeds some images (e.g. {small[0]}); use smaller patches")
        if not sizes:
            raise ValueError("no training images")
        self.spans = np.array(sizes) - patch_size + 1  # (N, 2): how many tops and lefts each image allows
        areas = np.prod(np.array(sizes, dtype=np.float64), axis=1)
        self.weights = areas / areas.sum() if by_area else None  # (N,) image probabilities, or uniform
        self.patch_size = patch_size
        self.batch_size = batch_size
        self.batches = batches
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return self.batches

    def __getitem__(self, index: int) -> torch.Tensor:
        if not 0 <= index < self.batches:
            raise IndexError(f"plan {index} out of range for an epoch of {self.batches}")
        rng = np.random.default_rng([self.seed, self.epoch, index])
        if self.weights is None:
            image = rng.integers(len(self.spans), size=self.batch_size)
        else:
            image = rng.choice(len(self.spans), size=self.batch_size, p=self.weights)
        corner = (rng.random((self.batch_size, 2)) * self.spans[image]).astype(np.int64)  # top, left
        symmetry = rng.integers(SYMMETRIES, size=self.batch_size)
        return torch.from_numpy(np.column_stack([image, corner, symmetry]))
