"""``python -m denoise.train fit --config ...``: train a denoiser with LightningCLI.

Configs are split into ``configs/model``, ``configs/data``, ``configs/trainer`` and ``configs/experiment``
and combined by passing several ``--config`` files (later ones override earlier ones); ``make train`` runs
the default experiment. Resume a stopped or killed run with ``--ckpt_path last``.
"""

from __future__ import annotations

import sys

from lightning.pytorch.cli import LightningCLI

from denoise.data.datamodule import DenoiseDataModule
from denoise.training.lit_module import DenoiseLitModule, NonFiniteLossError


def main(args: list[str] | None = None) -> int:
    try:
        LightningCLI(
            DenoiseLitModule,
            DenoiseDataModule,
            save_config_kwargs={"overwrite": True},
            args=args,
        )
    except (NonFiniteLossError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
