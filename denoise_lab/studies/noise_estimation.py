"""``python -m denoise_lab.studies.noise_estimation``: the accuracy of the blind noise estimators.

Clean images get the protocol's seeded noise at known sigmas; each estimator's error is reported in 8-bit units.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from skimage.restoration import estimate_sigma as wavelet_mad_sigma

from denoise.data.images import list_images, read_uint8
from denoise.data.registry import resolve_folder
from denoise.noise_estimation import estimate_sigma
from denoise.protocol import add_noise, image_seed
from denoise_lab.studies.common import write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m denoise_lab.studies.noise_estimation", description="estimator accuracy"
    )
    parser.add_argument("--dataset", default="CBSD68", help="registered set name or folder")
    parser.add_argument("--sigmas255", default="5,15,25,50", help="true noise levels in 8-bit units (/255)")
    parser.add_argument("--out", type=Path, default=Path("results/noise_estimation.md"))
    args = parser.parse_args(argv)
    try:
        paths = list_images(resolve_folder(args.dataset))
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sigmas = [float(value) for value in args.sigmas255.split(",")]
    estimators = {
        "PCA, weak-texture patches (ours)": estimate_sigma,
        "wavelet MAD (scikit-image)": lambda image: float(np.mean(wavelet_mad_sigma(image, channel_axis=-1))),
    }
    errors = {name: {sigma: [] for sigma in sigmas} for name in estimators}
    for path in paths:
        clean = read_uint8(path).astype(np.float32) / 255
        for sigma in sigmas:
            noisy = add_noise(clean, sigma / 255, image_seed(path))
            for name, estimator in estimators.items():
                errors[name][sigma].append(estimator(noisy) * 255 - sigma)
    command = " ".join(["python -m denoise_lab.studies.noise_estimation", *(sys.argv[1:] if argv is None else argv)])
    lines = [
        f"Made by `{command}`: "
        f"{len(paths)} images of {args.dataset}, noise added under the protocol (seeded, unclipped).",
        "Errors in 8-bit units (/255): mean absolute error (MAE), mean signed error (bias), MAE as % of sigma.",
        "",
        "| estimator | " + " | ".join(f"sigma {s:g}: MAE / bias / %" for s in sigmas) + " |",
        "|---|" + "---|" * len(sigmas),
    ]
    for name in estimators:
        cells = []
        for sigma in sigmas:
            values = np.array(errors[name][sigma])
            mae = np.abs(values).mean()
            cells.append(f"{mae:.2f} / {values.mean():+.2f} / {100 * mae / sigma:.1f}%")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return write_report(args.out, lines)


if __name__ == "__main__":
    sys.exit(main())
