"""The Lightning DataModule: training patches from named sets, protocol validation on a test set."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader

from denoise.data.images import list_images, read_uint8
from denoise.data.patches import PatchBank, PatchSampler
from denoise.data.registry import resolve_folder
from denoise.data.validation import ProtocolDataset


class DataConfigError(ValueError):
    """A data setting that cannot work; its message says which setting to change."""


class DenoiseDataModule(L.LightningDataModule):
    """Random patches from ``train_sets`` for training; ``val_set`` images under the protocol for validation.

    The training loader yields patch plans (:class:`PatchSampler`); once a plan is on the training device,
    ``on_after_batch_transfer`` cuts its patches there from the images held by a :class:`PatchBank`, so the
    training step receives float32 (B, C, P, P) patches on [0, 1].

    Args:
        train_sets: registered set names or folder paths (their images are decoded once and kept as uint8).
        val_set: a registered set name or folder path.
        grey: load everything as single-channel grey.
        patch_size: training patch side.
        batch_size: training patches per step.
        patches_per_epoch: training patches per epoch (the epoch length).
        val_images: use only N validation images (None: all).
        val_skip: skip the first N validation images (e.g. validate on training-set images held out of
            training with ``train_images``).
        val_sigmas: validation noise levels (/255).
        train_images: use only the first N training images (None: all; for quick runs).
        num_workers: validation data-loader worker processes (training plans are cheap to make in-process).
        seed: seed of the patch sampling.
    """

    def __init__(
        self,
        train_sets: list[str] = ["CBSD432"],  # noqa: B006 (LightningCLI needs a literal default)
        val_set: str = "CBSD68",
        grey: bool = False,
        patch_size: int = 128,
        batch_size: int = 16,
        patches_per_epoch: int = 16000,
        val_images: int | None = None,
        val_sigmas: tuple[float, ...] = (15.0, 25.0, 50.0),
        train_images: int | None = None,
        num_workers: int = 2,
        seed: int = 0,
        val_skip: int = 0,
    ) -> None:
        super().__init__()
        if patches_per_epoch < batch_size:
            # an epoch of patches_per_epoch // batch_size plans would be empty, and Lightning would stop untrained
            raise DataConfigError(
                f"data.patches_per_epoch ({patches_per_epoch}) is smaller than data.batch_size ({batch_size}): "
                "an epoch would hold no full batch; raise patches_per_epoch or lower batch_size"
            )
        self.save_hyperparameters()
        self.train_dataset: PatchSampler | None = None
        self.bank: PatchBank | None = None
        self.val_dataset: ProtocolDataset | None = None

    def setup(self, stage: str) -> None:
        hp = self.hparams
        if stage == "fit" and self.train_dataset is None:
            paths = [path for name in hp.train_sets for path in list_images(resolve_folder(name))]
            paths = paths[: hp.train_images] if hp.train_images else paths
            self.bank = PatchBank([read_uint8(path, grey=hp.grey) for path in paths])
            batches = hp.patches_per_epoch // hp.batch_size
            self.train_dataset = PatchSampler(self.bank.sizes, hp.patch_size, hp.batch_size, batches, hp.seed)
        if self.val_dataset is None:
            paths = list_images(resolve_folder(hp.val_set))[hp.val_skip :]
            paths = paths[: hp.val_images] if hp.val_images else paths
            if not paths:
                raise DataConfigError(f"no validation images left in {hp.val_set} after skipping {hp.val_skip}")
            self.val_dataset = ProtocolDataset(paths, tuple(hp.val_sigmas), hp.grey)

    def train_dataloader(self) -> DataLoader:
        self.train_dataset.epoch = self.trainer.current_epoch if self.trainer else 0  # new patches every epoch
        # each item is already a random batch plan; their order is reproducible this way
        return DataLoader(self.train_dataset, batch_size=None, shuffle=False, num_workers=0)

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        if not isinstance(batch, torch.Tensor):  # validation items are dicts of whole images
            return batch
        if self.bank.pixels.device != batch.device:  # the first training step: the images follow the plans
            self.bank.to(batch.device)
        return self.bank.crop(batch, self.hparams.patch_size)

    def val_dataloader(self) -> DataLoader:
        # batch_size=None: one whole image per step, as NumPy arrays (images differ in size)
        return DataLoader(self.val_dataset, batch_size=None, num_workers=self.hparams.num_workers)
