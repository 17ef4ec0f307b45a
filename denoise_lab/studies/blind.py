"""``python -m denoise_lab.studies.blind``: what denoising costs when sigma is estimated instead of known.

For each image and sigma, noise is added under the evaluation protocol and the model runs twice: with the true
sigma, and blind with the sigma :meth:`Denoiser.estimate_sigma` finds in the noisy image (as
``python -m denoise.infer`` does without ``--sigma``). Writes the mean PSNR of both and their difference to
``results/blind.md``.
"""

from __future__ import annotations

import sys

import numpy as np
from tqdm import tqdm

from denoise.data.images import read_uint8
from denoise.protocol import image_seed, score_image
from denoise_lab.studies.common import command_line, parse_and_load, parser, write_report

PROG = "denoise_lab.studies.blind"


def main(argv: list[str] | None = None) -> int:
    arguments = parser(f"python -m {PROG}", __doc__.splitlines()[0], "CBSD68", "results/blind.md")
    arguments.add_argument("--sigmas255", default="15,25,50", help="noise levels in 8-bit units (/255)")
    loaded = parse_and_load(arguments, argv)
    if loaded is None:
        return 2
    args, denoiser, paths = loaded
    sigmas = [float(value) for value in args.sigmas255.split(",")]
    true_psnr = {sigma: [] for sigma in sigmas}
    blind_psnr = {sigma: [] for sigma in sigmas}
    estimates = {sigma: [] for sigma in sigmas}
    found: list[float] = []  # the estimate of the latest blind call

    def blind(noisy: np.ndarray, sigma: float) -> np.ndarray:  # ignores the true sigma
        found.append(denoiser.estimate_sigma(noisy))
        return denoiser(noisy, found[-1])

    for path in tqdm(paths, desc="images", unit="image"):
        clean8 = read_uint8(path)
        for sigma in sigmas:
            true_psnr[sigma].append(score_image(denoiser, clean8, sigma, image_seed(path)).psnr)
            blind_psnr[sigma].append(score_image(blind, clean8, sigma, image_seed(path)).psnr)
            estimates[sigma].append(found[-1] * 255)
    lines = [
        f"Made by `{command_line(PROG, argv)}` with {denoiser.name}: {len(paths)} images of {args.dataset}, "
        "noise added under the protocol. PSNR in dB; the estimate is the mean of the blind estimates (/255).",
        "",
        "| sigma | true sigma | estimated sigma | loss (dB) | mean estimate |",
        "|---:|---:|---:|---:|---:|",
    ]
    for sigma in sigmas:
        known, estimated = np.mean(true_psnr[sigma]), np.mean(blind_psnr[sigma])
        lines.append(
            f"| {sigma:g} | {known:.2f} | {estimated:.2f} | {known - estimated:.3f} | {np.mean(estimates[sigma]):.2f} |"
        )
    return write_report(args.out, lines)


if __name__ == "__main__":
    sys.exit(main())
