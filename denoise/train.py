"""``python -m denoise.train fit --config ...``: train a denoiser with LightningCLI.

Configs are split into ``configs/model``, ``configs/data``, ``configs/trainer`` and ``configs/experiment``
and combined by passing several ``--config`` files (later ones override earlier ones); ``make train`` runs
the default experiment. Resume a stopped or killed run with ``--ckpt_path last`` (or a checkpoint file);
``validate --ckpt_path FILE`` with the same configs scores a training checkpoint on the validation set.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI

from denoise.data.datamodule import DataConfigError, DenoiseDataModule
from denoise.data.registry import resolve_folder
from denoise.training.lit_module import DenoiseLitModule, NonFiniteLossError, WarmStartError


class DenoiseCLI(LightningCLI):
    """LightningCLI that points checkpoint callbacks without a folder at the run's ``checkpoints/``."""

    def before_instantiate_classes(self) -> None:
        # before the trainer and its logger exist: a missing data set is one line, with no run folder left
        # behind and no logger output before it
        config = self.config[self.subcommand] if self.subcommand else self.config
        data = config.get("data") or {}
        names = []
        if self.subcommand in (None, "fit") or any((data.get("holdout") or {}).values()):
            names += list(data.get("train_sets") or [])
        names += [data.get("val_set")] if data.get("val_set") else []
        for name in names:
            resolve_folder(name)

    def before_fit(self) -> None:
        # before fit, not in the callbacks' setup: ``--ckpt_path last`` looks in these folders first
        for callback in self.trainer.checkpoint_callbacks:
            if isinstance(callback, ModelCheckpoint) and callback.dirpath is None:
                callback.dirpath = str((Path(self.trainer.default_root_dir) / "checkpoints").resolve())


def build_cli(args: list[str]) -> LightningCLI:
    """The training CLI built from ``args`` (``--config`` files and overrides, no subcommand) but not run.

    ``cli.trainer``, ``cli.model`` and ``cli.datamodule`` are ready for ``cli.trainer.fit``; tools that train
    the ``make train`` recipe under their own control (the ablation, the speed measurements) start here.
    """
    command_line, sys.argv = sys.argv, sys.argv[:1]  # the CLI reads only ``args``; keep it from warning
    try:
        return DenoiseCLI(DenoiseLitModule, DenoiseDataModule, run=False, args=args, save_config_callback=None)
    finally:
        sys.argv = command_line


def main(args: list[str] | None = None) -> int:
    try:
        DenoiseCLI(
            DenoiseLitModule,
            DenoiseDataModule,
            save_config_kwargs={"overwrite": True},
            args=args,
        )
    except (NonFiniteLossError, WarmStartError, FileNotFoundError, DataConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
