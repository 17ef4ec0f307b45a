"""``python -m denoise_lab.studies.real_noise``: real noisy photos (RNI6) denoised blind, as a contact sheet.

Real noise is neither Gaussian nor white, so there is no clean reference and no PSNR: each photo is denoised
at full resolution exactly as ``python -m denoise.infer photo.png`` does without ``--sigma`` (the shipped
blind model where one ships for its channels, else the estimated sigma), and a central crop of the noisy and
the denoised photo are shown side by side, captioned with the level used.
Writes ``results/real_noise.png``.
"""

from __future__ import annotations

import sys

import numpy as np
from tqdm import tqdm

from denoise.data.images import list_images
from denoise.data.registry import resolve_folder
from denoise.data.validation import central_crop as centre
from denoise.demo import caption
from denoise.infer import noise_level
from denoise.io import ImageData, read_image, write_image
from denoise_lab.studies.common import command_line, parse_and_load, parser

PROG = "denoise_lab.studies.real_noise"
PAIRS_PER_ROW = 2


def central_crop(image: np.ndarray, size: int) -> np.ndarray:
    """The central ``size`` x ``size`` window (smaller when the image is), as H x W x 3 (grey repeated)."""
    crop = centre(image, size)
    return np.repeat(crop[..., None], 3, axis=2) if crop.ndim == 2 else crop


def pad_to(panel: np.ndarray, height: int, width: int) -> np.ndarray:
    """``panel`` on a white canvas of ``height`` x ``width`` x 3 (top-left aligned)."""
    canvas = np.full((height, width, 3), 255, np.uint8)
    canvas[: panel.shape[0], : panel.shape[1]] = panel
    return canvas


def contact_sheet(pairs: list[tuple[np.ndarray, np.ndarray, str, str]], size: int) -> np.ndarray:
    """Rows of (noisy | denoised) crops captioned with the photo's name and the noise level used.

    ``PAIRS_PER_ROW`` pairs per row; returns uint8 H x W x 3.
    """
    panels = []
    for noisy, denoised, name, used in pairs:
        panels.append(caption(pad_to(noisy, size, size), f"{name[:14]}: noisy"))
        panels.append(caption(pad_to(denoised, size, size), used))
    per_row = 2 * PAIRS_PER_ROW
    blank = np.full_like(panels[0], 255)
    panels += [blank] * (-len(panels) % per_row)
    rows = [np.hstack(panels[start : start + per_row]) for start in range(0, len(panels), per_row)]
    return np.vstack(rows)


def main(argv: list[str] | None = None) -> int:
    arguments = parser(f"python -m {PROG}", __doc__.splitlines()[0], "RNI6", "results/real_noise.png")
    arguments.add_argument("--crop", type=int, default=256, help="side of the central crops shown")
    arguments.add_argument("--match", default="", help="only files whose name holds this (PolyU100: _real)")
    loaded = parse_and_load(arguments, argv)
    if loaded is None:
        return 2
    args, denoiser, paths = loaded
    if args.match:  # the limit counts the matching files
        paths = [path for path in list_images(resolve_folder(args.dataset)) if args.match in path.name][: args.limit]
    pairs = []
    for path in tqdm(paths, desc="photos", unit="photo"):
        data = read_image(path)
        noisy = data.to_float()
        level, estimated = noise_level(denoiser, noisy, None)
        denoised = data.with_pixels_from_float(denoiser(noisy, level)).pixels
        if data.pixels.dtype != np.uint8:  # 16-bit photos: shown as 8-bit
            noisy, denoised = (np.round(image / 257).astype(np.uint8) for image in (data.pixels, denoised))
        else:
            noisy = data.pixels
        used = "blind model, its own estimate" if estimated is None else f"estimated sigma {estimated * 255:.1f}/255"
        pairs.append((central_crop(noisy, args.crop), central_crop(denoised, args.crop), path.stem, used))
        print(f"{path.name}: {used}", flush=True)
    write_image(args.out, ImageData(contact_sheet(pairs, args.crop)))
    print(f"wrote {args.out} ({command_line(PROG, argv)}, {denoiser.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
