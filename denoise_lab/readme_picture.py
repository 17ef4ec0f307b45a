"""``python -m denoise_lab.readme_picture``: the README's picture, noisy | denoised, made with the shipped model.

A 320 x 320 crop of scikit-image's astronaut photo (public domain, NASA) with Gaussian noise of sigma 25/255
(seeded), denoised through the :class:`denoise.Denoiser` API at that sigma; each panel is captioned with its
PSNR against the clean crop. Written to ``docs/images/noisy_denoised.png``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import skimage.data

from denoise import Denoiser
from denoise.checkpoint import CheckpointError
from denoise.demo import CAPTION_HEIGHT, caption
from denoise.io import ImageData, write_image
from denoise.metrics import psnr, to_uint8

SIGMA255 = 25
CROP = (slice(20, 340), slice(120, 440))  # the face, helmet and flag: skin, fabric and edges


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.readme_picture", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images/noisy_denoised.png"))
    args = parser.parse_args(argv)
    clean8 = skimage.data.astronaut()[CROP]
    clean = clean8.astype(np.float32) / 255
    noisy = clean + SIGMA255 / 255 * np.random.default_rng(0).standard_normal(clean.shape).astype(np.float32)
    try:
        denoiser = Denoiser.from_checkpoint(None, device="cpu")
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    noisy8, denoised8 = to_uint8(noisy), to_uint8(denoiser(noisy, SIGMA255 / 255))
    gap = np.full((clean8.shape[0] + CAPTION_HEIGHT, 8, 3), 255, np.uint8)
    picture = np.hstack(
        [
            caption(noisy8, f"noisy, sigma {SIGMA255}/255: {psnr(clean8, noisy8):.2f} dB"),
            gap,
            caption(denoised8, f"denoised: {psnr(clean8, denoised8):.2f} dB"),
        ]
    )
    write_image(args.out, ImageData(picture))
    print(f"wrote {args.out} ({denoiser.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
