"""The Lightning DataModule: training patches from named sets, protocol validation on a test set."""

from __future__ import annotations

import lightning as L
from torch.utils.data import DataLoader

from denoise.data.images import list_images, read_uint8
from denoise.data.patches import PatchDataset
from denoise.data.registry import resolve_folder
from denoise.data.validation import ProtocolDataset


class DataConfigError(ValueError):
    """A data setting that cannot work; its message says which setting to change."""


class DenoiseDataModule(L.LightningDataModule):
    """Random patches from ``train_sets`` for training; ``val_set`` images under the protocol for validation.

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
        num_workers: data-loader worker processes.
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
            # drop_last would leave an epoch with no batch at all, and Lightning would stop without training
            raise DataConfigError(
                f"data.patches_per_epoch ({patches_per_epoch}) is smaller than data.batch_size ({batch_size}): "
                "an epoch would hold no full batch; raise patches_per_epoch or lower batch_size"
            )
        self.save_hyperparameters()
        self.train_dataset: PatchDataset | None = None
        self.val_dataset: ProtocolDataset | None = None

    def setup(self, stage: str) -> None:
        hp = self.hparams
        if stage == "fit" and self.train_dataset is None:
            paths = [path for name in hp.train_sets for path in list_images(resolve_folder(name))]
            paths = paths[: hp.train_images] if hp.train_images else paths
            images = [read_uint8(path, grey=hp.grey) for path in paths]
            self.train_dataset = PatchDataset(images, hp.patch_size, hp.patches_per_epoch, hp.seed)
        if self.val_dataset is None:
            paths = list_images(resolve_folder(hp.val_set))[hp.val_skip :]
            paths = paths[: hp.val_images] if hp.val_images else paths
            if not paths:
                raise DataConfigError(f"no validation images left in {hp.val_set} after skipping {hp.val_skip}")
            self.val_dataset = ProtocolDataset(paths, tuple(hp.val_sigmas), hp.grey)

    def train_dataloader(self) -> DataLoader:
        self.train_dataset.epoch = self.trainer.current_epoch if self.trainer else 0  # new patches every epoch
        return DataLoader(
            self.train_dataset,
            batch_size=self.hparams.batch_size,
            shuffle=False,  # items are already random; their order is reproducible this way
            num_workers=self.hparams.num_workers,
            persistent_workers=False,
            drop_last=True,
        )

    def val_dataloader(self) -> DataLoader:
        # batch_size=None: one whole image per step, as NumPy arrays (images differ in size)
        return DataLoader(self.val_dataset, batch_size=None, num_workers=self.hparams.num_workers)
