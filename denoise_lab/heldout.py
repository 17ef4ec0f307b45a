"""``python -m denoise_lab.heldout CKPT [CKPT ...]``: score checkpoints on the images a data config holds out.

A recipe or a checkpoint is chosen on images held out of its training sources, never on a test set. This
scores each checkpoint on exactly the validation images of a data config (``configs/data/mixture.yaml`` by
default: the last images by name of each training set, central crops of the large ones) with the protocol's
seeded noise, the same numbers ``make train`` logs as validation, and reports the mean PSNR per source set and
sigma. Written to ``--out`` (default ``results/heldout.md``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import yaml

from denoise import Denoiser
from denoise.checkpoint import CheckpointError
from denoise.data.datamodule import DataConfigError, DenoiseDataModule
from denoise.protocol import image_seed, score_image
from denoise.utils.files import atomic_write_text


def held_out(config: Path) -> DenoiseDataModule:
    """The data module of ``config`` with its validation images ready (the training images are not read)."""
    settings = (yaml.safe_load(config.read_text()) or {}).get("data", {})
    module = DenoiseDataModule(**settings)
    module.setup("validate")
    return module


def source_of(path: Path, module: DenoiseDataModule) -> str:
    """The training set (as named in the config) a held-out image comes from, or the validation set's name."""
    for name in module.hparams.train_sets:
        if path.parent.name == Path(name).name:
            return name
    return str(module.hparams.val_set)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.heldout", description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path, help="denoise checkpoints (.pt or .ckpt)")
    parser.add_argument("--config", type=Path, default=Path("configs/data/mixture.yaml"), help="a data config")
    parser.add_argument("--out", type=Path, default=Path("results/heldout.md"))
    args = parser.parse_args(argv)
    try:
        module = held_out(args.config)
        denoisers = {path: Denoiser.from_checkpoint(str(path), device="cpu") for path in args.checkpoints}
    except (CheckpointError, DataConfigError, FileNotFoundError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    dataset = module.val_dataset
    sources = [source_of(path, module) for path in dataset.paths]
    scores: dict[Path, dict[tuple[str, float], list[float]]] = {path: {} for path in denoisers}
    for index, path in enumerate(dataset.paths):
        clean8 = dataset[index]["clean8"]
        for checkpoint, denoiser in denoisers.items():
            for sigma in dataset.sigmas:
                psnr = score_image(denoiser, clean8, sigma, image_seed(path)).psnr
                scores[checkpoint].setdefault((sources[index], sigma), []).append(psnr)
        print(f"{path.name}: scored", file=sys.stderr, flush=True)
    columns = [(source, sigma) for source in dict.fromkeys(sources) for sigma in dataset.sigmas]
    counts = {source: sources.count(source) for source in dict.fromkeys(sources)}
    crop = f", central {module.hparams.val_crop} x {module.hparams.val_crop} crops" if module.hparams.val_crop else ""
    lines = [
        f"Made by `python -m denoise_lab.heldout {' '.join(sys.argv[1:] if argv is None else argv)}`: the validation "
        f"images of {args.config} ({', '.join(f'{count} of {source}' for source, count in counts.items())}{crop}), "
        "noise added under the protocol. Mean PSNR in dB.",
        "",
        "| checkpoint | " + " | ".join(f"{source} {sigma:g}" for source, sigma in columns) + " | mean |",
        "|---|" + "---:|" * (len(columns) + 1),
    ]
    for checkpoint, by_column in scores.items():
        means = [float(np.mean(by_column[column])) for column in columns]
        cells = " | ".join(f"{value:.2f}" for value in means)
        lines.append(f"| {checkpoint} | {cells} | {np.mean(means):.2f} |")
    atomic_write_text(args.out, "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
