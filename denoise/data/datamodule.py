"""The Lightning DataModule: training patches from named sets, protocol validation on a test set."""

from __future__ import annotations

import cv2
import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader

from denoise.data.colour_jitter import ColourJitter, jitter_colour
from denoise.data.dead_leaves import dead_leaves_set
from denoise.data.images import list_images, read_uint8
from denoise.data.patches import PatchBank, PatchSampler
from denoise.data.registry import resolve_folder
from denoise.data.validation import ProtocolDataset


class DataConfigError(ValueError):
    """A data setting that cannot work; its message says which setting to change."""


class DenoiseDataModule(L.LightningDataModule):
    """Random patches from ``train_sets`` for training; held-out or ``val_set`` images under the protocol for
    validation.

    The training loader yields patch plans (:class:`PatchSampler`); once a plan is on the training device,
    ``on_after_batch_transfer`` cuts its patches there from the images held by a :class:`PatchBank` and, for
    colour, applies the random colour maps of :mod:`denoise.data.colour_jitter`, so the training step receives
    float32 (B, C, P, P) clean patches on [0, 1].

    Args:
        train_sets: registered set names or folder paths (their images are decoded once and kept as uint8).
        val_set: a registered set name or folder path; None to validate on the held-out images alone.
        holdout: per training set (as named in ``train_sets``), the number of its images, the last ones by name,
            kept out of training and validated on (before ``val_set``'s, if any). Test sets stay test sets:
            validate on these to choose checkpoints and recipes.
        val_crop: validate on the central ``val_crop`` x ``val_crop`` crop of images larger than that (keeps
            validation of multi-megapixel photographs fast); None for whole images.
        sample_by_area: draw each training patch's image with probability proportional to its area (a
            1600-pixel photograph gives proportionally more patches than a 481 x 321 BSD image); otherwise
            every image is equally likely.
        downscales: factors in (0, 1): each training image whose long side is at least
            ``downscale_min_side`` is also kept downscaled by each factor (area filter), so patches come from
            the photograph at several scales (random downscaling of the large photographs).
        downscale_min_side: the long side from which an image gets downscaled copies.
        dead_leaves: this many synthetic dead-leaves images (:mod:`denoise.data.dead_leaves`: occluding shapes of
            every size and colour, seeded by ``seed``) join the training images, ``dead_leaves_size`` square each
            (grey when ``grey``); with ``sample_by_area`` their share of the patches is their share of the area.
        saturation, saturation_p, hue_p, permute_p: colour jitter of the clean colour patches
            (:class:`denoise.data.colour_jitter.ColourJitter`); the defaults leave colours as they are.
        grey: load everything as single-channel grey.
        patch_size: training patch side.
        batch_size: training patches per step.
        patches_per_epoch: training patches per epoch (the epoch length).
        val_images: use only N validation images (None: all).
        val_skip: skip the first N validation images (e.g. validate on training-set images held out of
            training with ``train_images``).
        val_sigmas_255: validation noise levels (/255).
        train_images: use only the first N training images (None: all; for quick runs).
        num_workers: validation data-loader worker processes (training plans are cheap to make in-process).
        seed: seed of the patch sampling.
    """

    def __init__(
        self,
        train_sets: list[str] = ["CBSD432"],  # noqa: B006 (LightningCLI needs a literal default)
        val_set: str | None = "CBSD68",
        grey: bool = False,
        patch_size: int = 128,
        batch_size: int = 16,
        patches_per_epoch: int = 16000,
        val_images: int | None = None,
        val_sigmas_255: tuple[float, ...] = (15.0, 25.0, 50.0),
        train_images: int | None = None,
        num_workers: int = 2,
        seed: int = 0,
        val_skip: int = 0,
        holdout: dict[str, int] = {},  # noqa: B006 (a literal default, as above)
        val_crop: int | None = None,
        sample_by_area: bool = False,
        downscales: list[float] = [],  # noqa: B006
        downscale_min_side: int = 1000,
        saturation: tuple[float, float] = (1.0, 1.0),
        saturation_p: float = 0.0,
        hue_p: float = 0.0,
        permute_p: float = 0.0,
        dead_leaves: int = 0,
        dead_leaves_size: int = 512,
    ) -> None:
        super().__init__()
        if patches_per_epoch < batch_size:
            # an epoch of patches_per_epoch // batch_size plans would be empty, and Lightning would stop untrained
            raise DataConfigError(
                f"data.patches_per_epoch ({patches_per_epoch}) is smaller than data.batch_size ({batch_size}): "
                "an epoch would hold no full batch; raise patches_per_epoch or lower batch_size"
            )
        unknown = sorted(set(holdout) - set(train_sets))
        if unknown:
            raise DataConfigError(f"data.holdout names {unknown}, which are not in data.train_sets {train_sets}")
        if any(not 0 < factor < 1 for factor in downscales):
            raise DataConfigError(f"data.downscales are factors in (0, 1), got {downscales}")
        if val_set is None and not any(holdout.values()):
            raise DataConfigError("no validation images: give data.val_set or hold some out with data.holdout")
        if dead_leaves < 0 or (dead_leaves and dead_leaves_size < patch_size):
            raise DataConfigError(
                f"data.dead_leaves ({dead_leaves}) must be at least 0, and data.dead_leaves_size "
                f"({dead_leaves_size}) at least data.patch_size ({patch_size})"
            )
        self.jitter = ColourJitter(tuple(saturation), saturation_p, hue_p, permute_p)
        self.save_hyperparameters()
        self.train_dataset: PatchSampler | None = None
        self.bank: PatchBank | None = None
        self.val_dataset: ProtocolDataset | None = None

    def setup(self, stage: str) -> None:
        hp = self.hparams
        needs_training_sets = (stage == "fit" and self.train_dataset is None) or any(hp.holdout.values())
        train, held_out = self.split_training_images() if needs_training_sets else ([], [])
        if stage == "fit" and self.train_dataset is None:
            train = train[: hp.train_images] if hp.train_images else train
            images = [scaled for path in train for scaled in self._scales(read_uint8(path, grey=hp.grey))]
            images += self._synthetic()
            self.bank = PatchBank(images)
            batches = hp.patches_per_epoch // hp.batch_size
            self.train_dataset = PatchSampler(
                self.bank.sizes, hp.patch_size, hp.batch_size, batches, hp.seed, by_area=hp.sample_by_area
            )
        if self.val_dataset is None:
            paths = list(held_out)
            if hp.val_set is not None:
                paths += list_images(resolve_folder(hp.val_set))
            paths = paths[hp.val_skip :]
            paths = paths[: hp.val_images] if hp.val_images else paths
            if not paths:
                raise DataConfigError(f"no validation images left in {hp.val_set} after skipping {hp.val_skip}")
            self.val_dataset = ProtocolDataset(paths, tuple(hp.val_sigmas_255), hp.grey, crop=hp.val_crop)

    def split_training_images(self) -> tuple[list, list]:
        """(training image paths, held-out image paths): per set, its last ``holdout[set]`` images by name."""
        train, held_out = [], []
        for name in self.hparams.train_sets:
            paths = list_images(resolve_folder(name))
            keep = len(paths) - self.hparams.holdout.get(name, 0)
            if keep < 1:
                raise DataConfigError(f"data.holdout keeps all {len(paths)} images of {name} out of training")
            train += paths[:keep]
            held_out += paths[keep:]
        return train, held_out

    def _scales(self, image: np.ndarray) -> list[np.ndarray]:
        """The image, and its area-downscaled copies when its long side reaches ``downscale_min_side``."""
        height, width = image.shape[:2]
        if max(height, width) < self.hparams.downscale_min_side:
            return [image]
        copies = [image]
        for factor in self.hparams.downscales:
            size = (round(width * factor), round(height * factor))  # OpenCV: (width, height)
            if min(size) >= self.hparams.patch_size:
                copies.append(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
        return copies

    def _synthetic(self) -> list[np.ndarray]:
        """The ``dead_leaves`` synthetic training images (uint8 RGB, or grey by OpenCV's BT.601 weights)."""
        images = dead_leaves_set(self.hparams.dead_leaves, self.hparams.dead_leaves_size, self.hparams.seed)
        return [cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) for image in images] if self.hparams.grey else images

    def train_dataloader(self) -> DataLoader:
        self.train_dataset.epoch = self.trainer.current_epoch if self.trainer else 0  # new patches every epoch
        # each item is already a random batch plan; their order is reproducible this way
        return DataLoader(self.train_dataset, batch_size=None, shuffle=False, num_workers=0)

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        if not isinstance(batch, torch.Tensor):  # validation items are dicts of whole images
            return batch
        if self.bank.pixels.device != batch.device:  # the first training step: the images follow the plans
            self.bank.to(batch.device)
        patches = self.bank.crop(batch, self.hparams.patch_size)
        if self.jitter.active and patches.shape[1] == 3:
            patches = jitter_colour(patches, self.jitter)
        return patches

    def val_dataloader(self) -> DataLoader:
        # batch_size=None: one whole image per step, as NumPy arrays (images differ in size)
        return DataLoader(self.val_dataset, batch_size=None, num_workers=self.hparams.num_workers)
