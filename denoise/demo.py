"""``python -m denoise.demo``: denoise a sample photo through the CLI and show noisy | denoised | clean.

Takes scikit-image's astronaut photo, adds Gaussian noise (sigma 0.1 on the [0, 1] scale, seeded), saves it
as ``demo/noisy.png``, runs ``python -m denoise.infer`` on it with the shipped model (or, while no trained
checkpoint ships, the bilateral baseline, said so in the caption) and writes ``demo/side_by_side.png``
with the PSNR of each panel in its caption.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import skimage.data

from denoise.checkpoint import CheckpointError, default_checkpoints
from denoise.io import ImageData, read_image, write_image
from denoise.metrics import psnr

SIGMA = 0.1
CAPTION_HEIGHT = 36


def caption(panel: np.ndarray, text: str) -> np.ndarray:
    """``panel`` (H x W x 3 uint8) with a white strip above holding ``text``."""
    strip = np.full((CAPTION_HEIGHT, panel.shape[1], 3), 255, np.uint8)
    cv2.putText(strip, text, (8, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([strip, panel])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("demo"), help="folder for the demo images")
    args = parser.parse_args(argv)

    clean = skimage.data.astronaut()  # 512 x 512 x 3 uint8
    noise = SIGMA * np.random.default_rng(0).standard_normal(clean.shape)
    noisy = np.round(np.clip(clean / 255.0 + noise, 0, 1) * 255).astype(np.uint8)
    args.out.mkdir(parents=True, exist_ok=True)
    write_image(args.out / "clean.png", ImageData(clean))
    write_image(args.out / "noisy.png", ImageData(noisy))

    try:
        default_checkpoints()
        method, label = [], "shipped model"
    except CheckpointError:
        method, label = ["--method", "bilateral"], "bilateral (no trained model ships yet)"
        print("note: no trained checkpoint ships yet; the demo uses the bilateral baseline", file=sys.stderr)
    command = [
        sys.executable,
        "-m",
        "denoise.infer",
        str(args.out / "noisy.png"),
        "--sigma",
        str(SIGMA),
        "-o",
        str(args.out / "denoised.png"),
        "--overwrite",
        *method,
    ]
    print("$ python " + " ".join(command[1:]), file=sys.stderr)
    if subprocess.run(command, check=False).returncode:
        return 2

    denoised = read_image(args.out / "denoised.png").pixels
    panels = [
        caption(noisy, f"noisy, sigma {SIGMA}: {psnr(clean, noisy):.2f} dB"),
        caption(denoised, f"{label}: {psnr(clean, denoised):.2f} dB"),
        caption(clean, "clean"),
    ]
    gap = np.full((panels[0].shape[0], 8, 3), 255, np.uint8)
    side_by_side = np.hstack([panels[0], gap, panels[1], gap, panels[2]])
    write_image(args.out / "side_by_side.png", ImageData(side_by_side))
    print(f"wrote {args.out / 'side_by_side.png'} (noisy | denoised | clean)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
