"""``python -m denoise_lab.heldout CKPT [CKPT ...]``: score checkpoints on the images a data config holds out.

A recipe or a checkpoint is chosen on images held out of its training sources, never on a test set. This
scores each checkpoint on exactly the validation images of a data config (``configs/data/mixture.yaml`` by
default: the last images by name of each training set, central crops of the large ones) with the protocol's
seeded noise, the same numbers ``make train`` logs as validation, and reports the mean PSNR per source set and
sigma. With ``--noise camera`` each image gets instead seeded realistic camera noise (:mod:`denoise.data.camera_noise`,
no white Gaussian patches) and is denoised as ``python -m denoise.infer`` does without ``--sigma`` (a blind
model finds the level itself): the blind model's target, on images it never trained on. ``--ensemble 1,2,0+7``
scores each model once per self-ensemble listed, a view count or the views' transform indices (default: the
mode's own, as the CLI; for raw, the Bayer-preserving views of :mod:`denoise.raw.views`). With ``--noise raw``
each image becomes seeded synthetic raw at the raw model's validation ISOs (:mod:`denoise.data.raw_synthesis`),
denoised as ``python -m denoise.infer shot.dng`` does and scored as the raw benchmark scores: in linear raw and
after the fixed rendering. ``--precision float32,bfloat16`` scores each checkpoint once per inference precision
(:mod:`denoise.precision`; default ``float32``, as the CLI). Written to ``--out`` (default ``results/heldout.md``).
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import numpy as np
import torch
import yaml

from denoise import Denoiser
from denoise.checkpoint import CheckpointError
from denoise.data.camera_noise import seeded_camera_noise
from denoise.data.datamodule import DataConfigError, DenoiseDataModule
from denoise.data.raw_synthesis import rendered8, seeded_synthetic_raw
from denoise.data.validation import even_crop, to_batch
from denoise.denoiser import ensemble_views
from denoise.infer import noise_level
from denoise.metrics import psnr, raw_psnr, to_uint8
from denoise.models.registry import RAW_PLANES
from denoise.protocol import image_seed, score_image
from denoise.raw.noise_profile import NoiseProfile
from denoise.raw.pipeline import denoise_planes
from denoise.raw.views import RAW_ENSEMBLE
from denoise.training.lit_module import RAW_VALIDATION_ISOS
from denoise.transforms.dihedral import ENSEMBLE_ORDER
from denoise_lab.tables import publish

NOISE_TEXT = {
    "gaussian": "noise added under the protocol. ",
    "camera": "seeded camera noise, denoised as without --sigma. ",
    "raw": "seeded synthetic raw, denoised as a raw file is, PSNR in linear raw and after the fixed rendering. ",
}


ENSEMBLE_TEXT = (
    "Each row averages the denoising of the views it names (the self-ensemble, `ensemble=`): transforms of "
    "denoise.transforms.dihedral (for raw, their Bayer-preserving forms, denoise.raw.views), 0 the image, 2 its half "
    "turn, 5 its transpose, 7 its anti-transpose; a count is "
    f"the first of the default order {', '.join(map(str, ENSEMBLE_ORDER))}. "
)


def held_out(config: Path, grey: bool = False) -> DenoiseDataModule:
    """The data module of ``config`` with its validation images ready (the training images are not read);
    ``grey``: those images in grey, as a grey model trains on the same config (``data.grey``)."""
    settings = (yaml.safe_load(config.read_text()) or {}).get("data", {})
    settings = {**settings, "grey": True} if grey else settings
    module = DenoiseDataModule(**settings)
    module.setup("validate")
    return module


def source_of(path: Path, module: DenoiseDataModule) -> str:
    """The training set (as named in the config) a held-out image comes from, or the validation set's name."""
    for name in module.hparams.train_sets:
        if path.parent.name == Path(name).name:
            return name
    return str(module.hparams.val_set)


def _label(level) -> str:
    return f"{level:g}" if isinstance(level, float) else str(level)


def camera_score(denoiser: Denoiser, clean8: np.ndarray, seed: int, ensemble=None) -> float:
    """PSNR of the CLI's no-sigma path on ``clean8`` (H x W [x C], even-cropped here) with seeded camera noise;
    ``ensemble``: the self-ensemble, as :class:`~denoise.Denoiser` takes it (None: the CLI's default)."""
    clean8 = even_crop(clean8)
    noisy = seeded_camera_noise(to_batch(clean8), seed)[0].permute(1, 2, 0).numpy().reshape(clean8.shape)
    return psnr(clean8, to_uint8(denoiser(noisy, noise_level(denoiser, noisy, None)[0], ensemble=ensemble)))


def raw_scores(denoiser: Denoiser, clean8: np.ndarray, iso: float, seed: int, ensemble=None) -> dict[str, float]:
    """PSNR of the raw model on ``clean8`` (even-cropped) as seeded synthetic raw of ``iso``: ``{"ISO N raw":
    linear-raw PSNR, "ISO N rendered": PSNR after the fixed rendering}``; ``ensemble``: the Bayer-preserving
    self-ensemble, a view count or the views' indices (None: the CLI's default for a raw file)."""
    raw = seeded_synthetic_raw(to_batch(even_crop(clean8)), iso, seed)
    planes = raw.noisy[0].numpy()
    profile = NoiseProfile(float(raw.shot), float(raw.read))
    views = ensemble_views(ensemble, RAW_ENSEMBLE)
    denoised = denoise_planes(planes, profile, denoiser.function_for(RAW_PLANES), views=views)
    rendered = psnr(rendered8(raw.clean, raw.params), rendered8(torch.from_numpy(denoised)[None], raw.params))
    return {f"ISO {iso:g} raw": raw_psnr(raw.clean[0].numpy(), denoised), f"ISO {iso:g} rendered": rendered}


def _ensembles(text: str) -> list[int | tuple[int, ...]]:
    """``--ensemble``'s list: ``1,2,0+7`` -> [1, 2, (0, 7)] (a count, or the transforms' indices)."""
    return [tuple(int(v) for v in token.split("+")) if "+" in token else int(token) for token in text.split(",")]


def _row_label(checkpoint: Path, views: int | tuple[int, ...] | None, precision: str | None = None) -> str:
    label = str(checkpoint) if precision is None else f"{checkpoint}, {precision}"
    if views is None:
        return label
    if isinstance(views, tuple):
        return f"{label}, views {'+'.join(map(str, views))}"
    return f"{label}, {views} view{'s' if views > 1 else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.heldout", description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path, help="denoise checkpoints (.pt or .ckpt)")
    parser.add_argument("--config", type=Path, default=Path("configs/data/mixture.yaml"), help="a data config")
    parser.add_argument("--noise", choices=["gaussian", "camera", "raw"], default="gaussian", help="the noise added")
    parser.add_argument("--grey", action="store_true", help="the held-out images in grey, for grey models")
    parser.add_argument(
        "--ensemble", type=_ensembles, default=[None],
        help="self-ensembles to score: view counts or '+'-joined transform indices, e.g. 1,2,0+7 (default: the "
        "mode's own); for --noise raw the Bayer-preserving ones",
    )  # fmt: skip
    parser.add_argument(
        "--precision", type=lambda text: text.split(","), default=["float32"],
        help="inference precisions to score, comma-separated: float32, bfloat16 (default: float32, as the CLI)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("results/heldout.md"))
    args = parser.parse_args(argv)
    try:
        module = held_out(args.config, args.grey)
        denoisers = {
            (path, precision): Denoiser.from_checkpoint(str(path), device="cpu", precision=precision)
            for path in args.checkpoints
            for precision in args.precision
        }
    except (CheckpointError, DataConfigError, FileNotFoundError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    dataset = module.val_dataset
    sources = [source_of(path, module) for path in dataset.paths]
    rows = [(loaded, views) for loaded in denoisers for views in args.ensemble]
    scores: dict[tuple[tuple[Path, str], object], dict[tuple[str, float], list[float]]] = {row: {} for row in rows}
    for index, path in enumerate(dataset.paths):
        clean8 = dataset[index]["clean8"]
        for loaded, views in rows:
            denoiser = denoisers[loaded]
            if args.noise == "raw":
                found = {}
                for iso in RAW_VALIDATION_ISOS:
                    found |= raw_scores(denoiser, clean8, iso, image_seed(path), views)
            elif args.noise == "camera":
                found = {"camera": camera_score(denoiser, clean8, image_seed(path), views)}
            else:
                method = functools.partial(denoiser, ensemble=views)
                found = {level: score_image(method, clean8, level, image_seed(path)).psnr for level in dataset.sigmas}
            for level, value in found.items():
                scores[(loaded, views)].setdefault((sources[index], level), []).append(value)
            levels = list(found)
        print(f"{path.name}: scored", file=sys.stderr, flush=True)
    columns = [(source, level) for source in dict.fromkeys(sources) for level in levels]
    counts = {source: sources.count(source) for source in dict.fromkeys(sources)}
    crop = f", central {module.hparams.val_crop} x {module.hparams.val_crop} crops" if module.hparams.val_crop else ""
    lines = [
        f"Made by `python -m denoise_lab.heldout {' '.join(sys.argv[1:] if argv is None else argv)}`: the validation "
        f"images of {args.config}{' in grey' if args.grey else ''} "
        f"({', '.join(f'{count} of {source}' for source, count in counts.items())}{crop}), "
        + NOISE_TEXT[args.noise]
        + (ENSEMBLE_TEXT if args.ensemble != [None] else "")
        + "Mean PSNR in dB.",
        "",
        "| checkpoint | " + " | ".join(f"{source} {_label(level)}" for source, level in columns) + " | mean |",
        "|---|" + "---:|" * (len(columns) + 1),
    ]
    for ((checkpoint, precision), views), by_column in scores.items():
        means = [float(np.mean(by_column[column])) for column in columns]
        cells = " | ".join(f"{value:.2f}" for value in means)
        label = _row_label(checkpoint, views, precision if len(args.precision) > 1 else None)
        lines.append(f"| {label} | {cells} | {np.mean(means):.2f} |")
    publish(args.out, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
