"""OpenCV non-local means with its filter strength ``h`` tuned per noise level.

``cv2.fastNlMeansDenoising[Colored]`` works on uint8 images, so the noisy input is clipped and rounded to
8 bits first (part of this method, not of the protocol). ``h`` (and ``hColor``) come from sigma through
``nlm_table.json``, written by ``python -m denoise.baselines.nlm --train DIR`` (a grid search of h / sigma
on training images under the protocol, like the bilateral table).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from denoise.baselines.tune_bilateral import LEVELS, spread
from denoise.data.images import list_images, read_uint8
from denoise.metrics import psnr, to_uint8
from denoise.protocol import add_noise, image_seed
from denoise.utils.files import atomic_write_text

TABLE_FILE = "nlm_table.json"
H_RATIOS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2)  # h / sigma, sigma in 8-bit units


@functools.lru_cache(maxsize=2)
def load_table(path: str | None = None) -> tuple[dict, ...]:
    source = Path(path) if path else resources.files("denoise.baselines").joinpath(TABLE_FILE)
    return tuple(sorted(json.loads(source.read_text())["rows"], key=lambda row: row["sigma255"]))


def h_ratio(sigma: float, table: tuple[dict, ...] | None = None) -> float:
    """h / sigma for ``sigma`` (on [0, 1]) from the table, linear between rows, clamped outside."""
    rows = table or load_table()
    levels = [row["sigma255"] for row in rows]
    return float(np.interp(sigma * 255, levels, [row["h_ratio"] for row in rows]))


def nlm_denoise(noisy: np.ndarray, sigma: float, ratio: float | None = None) -> np.ndarray:
    """Non-local means; float32 H x W [x 3] on [0, 1] in and out (the filter itself works on uint8)."""
    h = (ratio if ratio is not None else h_ratio(sigma)) * sigma * 255
    image8 = to_uint8(noisy)
    if image8.ndim == 2:
        result = cv2.fastNlMeansDenoising(image8, None, h, 7, 21)
    else:
        result = cv2.fastNlMeansDenoisingColored(image8, None, h, h, 7, 21)
    return result.astype(np.float32) / 255.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise.baselines.nlm", description="tune NLM's h per sigma")
    parser.add_argument("--train", type=Path, required=True, help="folder of clean training images")
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--table", type=Path, default=Path(__file__).with_name(TABLE_FILE))
    args = parser.parse_args(argv)
    try:
        paths = spread(list_images(args.train), args.images)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    images = [(path.name, read_uint8(path)) for path in paths]
    rows = []
    for level in tqdm(LEVELS, desc="tuning NLM"):
        totals = dict.fromkeys(H_RATIOS, 0.0)
        for name, clean8 in images:
            noisy = add_noise(clean8.astype(np.float32) / 255, level / 255, image_seed(name))
            for ratio in H_RATIOS:
                totals[ratio] += psnr(clean8, to_uint8(nlm_denoise(noisy, level / 255, ratio)))
        best = max(totals, key=totals.get)
        rows.append({"sigma255": level, "h_ratio": best, "train_psnr": round(totals[best] / len(images), 4)})
        print(rows[-1])
    command = "python -m denoise.baselines.nlm " + " ".join(sys.argv[1:] if argv is None else argv)
    table = {
        "description": "OpenCV NLM h / sigma per noise level, tuned by mean PSNR on training images",
        "command": command,
        "training_images": [name for name, _ in images],
        "grid": H_RATIOS,
        "rows": rows,
    }
    atomic_write_text(args.table, json.dumps(table, indent=2) + "\n")
    print(f"wrote {args.table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
