"""``python -m denoise_lab.studies.tile_consistency``: does the model give the same quality on whole images as on tiles?

A fully convolutional network should not care how an image is cut. One trained on small patches can learn to
lean on the zero padding at the patch borders, and then a whole image (whose interior sees no border) comes out
worse than the same image cut into patch-sized tiles. For each tile size, and for one pass over the whole
image, this command denoises a set under the evaluation protocol and writes the mean PSNR and its difference
to the whole-image pass to ``results/tile_consistency.md``. A healthy model has differences near zero.
"""

from __future__ import annotations

import sys

import numpy as np
from tqdm import tqdm

from denoise.checkpoint import CheckpointError, load_checkpoint
from denoise.data.images import read_uint8
from denoise.denoiser import Denoiser
from denoise.protocol import image_seed, score_image
from denoise.tiling import DEFAULT_OVERLAP, TILE_MULTIPLE
from denoise_lab.studies.common import command_line, parse_and_load, parser, write_report

PROG = "denoise_lab.studies.tile_consistency"
WHOLE = 1 << 16  # a tile longer than any image axis: one pass over the whole (padded) image


def tile_overlap(tile: int) -> int:
    """The overlap used with ``tile``: the default, or a quarter of a small tile, rounded down to 8 pixels."""
    return min(DEFAULT_OVERLAP, tile // 4 // 8 * 8)


def main(argv: list[str] | None = None) -> int:
    arguments = parser(f"python -m {PROG}", __doc__.splitlines()[0], "CBSD68", "results/tile_consistency.md")
    arguments.add_argument("--tiles", default="64,128,256", help="tile sizes, multiples of 32")
    arguments.add_argument("--sigma255", type=float, default=25.0, help="noise level in 8-bit units (/255)")
    loaded = parse_and_load(arguments, argv)
    if loaded is None:
        return 2
    args, reference, paths = loaded
    try:
        tiles = [int(value) for value in args.tiles.split(",")]
        if any(tile < 2 * TILE_MULTIPLE or tile % TILE_MULTIPLE for tile in tiles):
            raise ValueError(f"tile sizes must be multiples of {TILE_MULTIPLE} from {2 * TILE_MULTIPLE}, got {tiles}")
        denoisers = {
            tile: Denoiser.from_checkpoint(args.checkpoint, device="cpu", tile=tile, overlap=tile_overlap(tile))
            for tile in [WHOLE, *tiles]
        }
    except (CheckpointError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    scores = {tile: [] for tile in denoisers}
    for path in tqdm(paths, desc="images", unit="image"):
        clean8 = read_uint8(path)
        for tile, denoiser in denoisers.items():
            scores[tile].append(score_image(denoiser, clean8, args.sigma255, image_seed(path)).psnr)
    whole = float(np.mean(scores[WHOLE]))
    steps = f" (step {load_checkpoint(args.checkpoint)[1].get('global_step')})" if args.checkpoint else ""
    lines = [
        f"Made by `{command_line(PROG, argv)}` with {reference.name}{steps}: {len(paths)} images of {args.dataset} at "
        f"sigma {args.sigma255:g}/255, noise added under the protocol. Mean PSNR in dB.",
        "",
        "| pass | overlap | PSNR | vs whole image |",
        "|---|---:|---:|---:|",
        f"| whole image | - | {whole:.2f} | 0.00 |",
    ]
    for tile in tiles:
        mean = float(np.mean(scores[tile]))
        lines.append(f"| tiles of at most {tile} x {tile} | {tile_overlap(tile)} | {mean:.2f} | {mean - whole:+.2f} |")
    return write_report(args.out, lines)


if __name__ == "__main__":
    sys.exit(main())
