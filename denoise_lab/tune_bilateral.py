"""``python -m denoise_lab.tune_bilateral``: tune the bilateral filter per noise level.

Grid search on training images under the evaluation protocol (seeded unclipped noise, output scored as
uint8, mean PSNR), one row per noise level, written to ``denoise/baselines/bilateral_table.json``. With
``--test``, the tuned filter is then scored on a test set (PSNR/SSIM, protocol of ``denoise.protocol``)
next to the noisy input, and the report is written to ``results/bilateral.md``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from denoise.baselines import bilateral
from denoise.baselines.bilateral import (
    TABLE_FILE,
    BilateralParams,
    bilateral_denoise,
    bilateral_params,
    diameter_for,
    load_table,
)
from denoise.data.images import list_images, read_uint8
from denoise.metrics import psnr, to_uint8
from denoise.protocol import add_noise, image_seed, score_image
from denoise.utils.files import atomic_write_text

LEVELS = (5, 10, 15, 25, 35, 50, 75)  # sigma / 255
RATIOS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)  # sigma_color / sigma
SIGMA_SPACES = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
MAX_PASSES = 3
TEST_LEVELS = (15, 25, 50)
DEFAULT_TABLE = Path(bilateral.__file__).with_name(TABLE_FILE)  # the product's committed table


def spread(items: list, count: int) -> list:
    """``count`` items spread evenly over ``items`` (all of them if fewer)."""
    if count >= len(items):
        return items
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)] if count > 1 else items[:1]


def tune_level(images: list[tuple[str, np.ndarray]], level: float) -> tuple[dict, float]:
    """Best (ratio, sigma_space, passes) at ``level`` by mean PSNR over ``images``; returns (row, psnr)."""
    sigma = level / 255.0
    totals: dict[tuple[float, float, int], float] = {}
    for name, clean8 in images:
        noisy = add_noise(clean8.astype(np.float32) / 255.0, sigma, image_seed(name))
        for ratio, sigma_space in itertools.product(RATIOS, SIGMA_SPACES):
            params = BilateralParams(ratio * sigma, sigma_space, diameter_for(sigma_space), passes=1)
            result = noisy
            for passes in range(1, MAX_PASSES + 1):  # each extra pass filters the previous result again
                result = bilateral_denoise(result, sigma, params)
                key = (ratio, sigma_space, passes)
                totals[key] = totals.get(key, 0.0) + psnr(clean8, to_uint8(result))
    (ratio, sigma_space, passes), total = max(totals.items(), key=lambda item: item[1])
    row = {"sigma255": level, "sigma_color_ratio": ratio, "sigma_space": sigma_space, "passes": passes}
    return row, total / len(images)


def evaluate(folder: Path, table_path: Path) -> str:
    """Markdown table: mean PSNR / SSIM of the noisy input and the tuned filter on ``folder``."""
    load_table.cache_clear()  # the table at this path may have just been rewritten
    table = load_table(str(table_path))

    methods = {
        "noisy input": lambda noisy, sigma: noisy,
        "bilateral (tuned)": lambda noisy, sigma: bilateral_denoise(noisy, sigma, bilateral_params(sigma, table)),
    }
    paths = list_images(folder)
    lines = [
        "| method | " + " | ".join(f"sigma {level}" for level in TEST_LEVELS) + " | s / MP |",
        "|---|" + "---|" * len(TEST_LEVELS) + "---:|",
    ]
    images = [(path.name, read_uint8(path)) for path in paths]
    for method_name, method in methods.items():
        cells, seconds, megapixels = [], 0.0, 0.0
        for level in TEST_LEVELS:
            scores = [
                score_image(method, clean8, level, image_seed(name))
                for name, clean8 in tqdm(images, desc=f"{method_name} @ {level}", leave=False)
            ]
            cells.append(f"{np.mean([s.psnr for s in scores]):.2f} / {np.mean([s.ssim for s in scores]):.4f}")
            seconds += sum(s.seconds for s in scores)
            megapixels += sum(s.megapixels for s in scores)
        lines.append(f"| {method_name} | " + " | ".join(cells) + f" | {seconds / megapixels:.3f} |")
    return "\n".join(lines) + "\n"


def report(table_path: Path, test: Path | None) -> str:
    """Markdown report of a tuned table (and its scores on ``test``), reproducible from the table alone."""
    table = json.loads(table_path.read_text())
    lines = [
        f"Made by `{table['command']}` (torch {torch.__version__}, {platform.machine()}, "
        f"{torch.get_num_threads()} threads).",
        "",
        f"Tuned parameters ({len(table['training_images'])} training images, mean PSNR under the protocol):",
        "",
        "| sigma (/255) | sigma_color / sigma | sigma_space | diameter | passes | train PSNR |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in table["rows"]:
        lines.append(
            f"| {row['sigma255']} | {row['sigma_color_ratio']} | {row['sigma_space']} "
            f"| {diameter_for(row['sigma_space'])} | {row['passes']} | {row['train_psnr']:.2f} |"
        )
    if test:
        lines += ["", f"{test.name}, PSNR / SSIM under the protocol:", "", evaluate(test, table_path).rstrip()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.tune_bilateral", description=__doc__)
    parser.add_argument("--train", type=Path, help="folder of clean training images (required unless --skip-tuning)")
    parser.add_argument("--images", type=int, default=12, help="training images used (spread over the set)")
    parser.add_argument("--test", type=Path, help="folder of clean test images to score the tuned filter on")
    parser.add_argument("--table", type=Path, default=DEFAULT_TABLE, help="the tuned table to write (or read)")
    parser.add_argument("--report", type=Path, default=Path("results/bilateral.md"), help="Markdown report")
    parser.add_argument("--skip-tuning", action="store_true", help="keep the existing table, only write the report")
    args = parser.parse_args(argv)
    if not args.skip_tuning and args.train is None:
        parser.error("--train is required unless --skip-tuning")
    try:
        paths = [] if args.skip_tuning else spread(list_images(args.train), args.images)
        if args.test:
            list_images(args.test)  # fail before the long search, not after
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    if not args.skip_tuning:
        images = [(path.name, read_uint8(path)) for path in paths]
        rows = []
        for level in tqdm(LEVELS, desc="tuning bilateral"):
            row, mean_psnr = tune_level(images, level)
            rows.append({**row, "train_psnr": round(mean_psnr, 4)})
        arguments = sys.argv[1:] if argv is None else argv
        table = {
            "description": "bilateral filter parameters per noise level, tuned by mean PSNR on training images",
            "command": "python -m denoise_lab.tune_bilateral " + " ".join(arguments),
            "training_images": [name for name, _ in images],
            "grid": {
                "sigma_color_ratio": RATIOS,
                "sigma_space": SIGMA_SPACES,
                "passes": list(range(1, MAX_PASSES + 1)),
            },
            "rows": rows,
        }
        atomic_write_text(args.table, json.dumps(table, indent=2) + "\n")
        print(f"wrote {args.table}")
    text = report(args.table, args.test)
    atomic_write_text(args.report, text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
