"""``python -m denoise_lab.tune_nlm --train DIR``: tune non-local means' ``h`` per noise level.

A grid search of h / sigma on clean training images under the evaluation protocol, by mean PSNR; writes the
table :mod:`denoise.baselines.nlm` reads (``denoise/baselines/nlm_table.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from denoise.baselines import nlm
from denoise.baselines.nlm import TABLE_FILE, nlm_denoise
from denoise.data.images import list_images, read_uint8
from denoise.metrics import psnr, to_uint8
from denoise.protocol import add_noise, image_seed
from denoise.utils.files import atomic_write_text
from denoise_lab.tune_bilateral import LEVELS, spread

H_RATIOS = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2)  # h / sigma, sigma in 8-bit units


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.tune_nlm", description="tune NLM's h per sigma")
    parser.add_argument("--train", type=Path, required=True, help="folder of clean training images")
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--table", type=Path, default=Path(nlm.__file__).with_name(TABLE_FILE))
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
    command = "python -m denoise_lab.tune_nlm " + " ".join(sys.argv[1:] if argv is None else argv)
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
