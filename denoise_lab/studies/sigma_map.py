"""``python -m denoise_lab.studies.sigma_map``: spatially varying noise, the true sigma map against single sigmas.

Each clean image gets Gaussian noise whose sigma ramps linearly from 5/255 at the left edge to 50/255 at the
right (seeded per image as in the protocol, unclipped). The model then denoises it with the true per-pixel
sigma map (``--sigma-map``), and with each single sigma of a grid; the report compares the map with the
single sigma best for the whole set and with the best single sigma chosen per image (an oracle). Writes
``results/sigma_map.md``.
"""

from __future__ import annotations

import sys

import numpy as np
from tqdm import tqdm

from denoise.data.images import read_uint8
from denoise.metrics import psnr, to_uint8
from denoise.protocol import image_seed
from denoise_lab.studies.common import command_line, parse_and_load, parser, write_report

PROG = "denoise_lab.studies.sigma_map"
RAMP = (5.0, 50.0)  # sigma at the left and right edges, /255
GRID = tuple(float(sigma) for sigma in range(5, 51, 5))  # single sigmas tried, /255


def ramp_map(height: int, width: int, low: float = RAMP[0], high: float = RAMP[1]) -> np.ndarray:
    """Sigma map (H x W, float32, [0, 1] scale) rising linearly from ``low`` to ``high`` (/255) across the width."""
    row = np.linspace(low, high, width, dtype=np.float32) / 255
    return np.broadcast_to(row, (height, width)).copy()


def ramp_noise(clean: np.ndarray, sigma_map: np.ndarray, seed: int) -> np.ndarray:
    """``clean + sigma_map * N(0, 1)`` (the map broadcast over channels), float32, unclipped."""
    noise = np.random.default_rng(seed).standard_normal(clean.shape, dtype=np.float32)
    scale = sigma_map if clean.ndim == 2 else sigma_map[..., None]
    return (clean.astype(np.float32) + scale * noise).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    loaded = parse_and_load(
        parser(f"python -m {PROG}", __doc__.splitlines()[0], "CBSD68", "results/sigma_map.md"), argv
    )
    if loaded is None:
        return 2
    args, denoiser, paths = loaded
    with_map, single = [], []  # per image: PSNR with the map; PSNR per grid sigma
    for path in tqdm(paths, desc="images", unit="image"):
        clean8 = read_uint8(path)
        sigma_map = ramp_map(*clean8.shape[:2])
        noisy = ramp_noise(clean8 / np.float32(255), sigma_map, image_seed(path))
        with_map.append(psnr(clean8, to_uint8(denoiser(noisy, sigma_map))))
        single.append([psnr(clean8, to_uint8(denoiser(noisy, sigma / 255))) for sigma in GRID])
    single_psnr = np.array(single)  # (images, grid)
    set_best = int(np.argmax(single_psnr.mean(axis=0)))
    map_mean = float(np.mean(with_map))
    rows = [
        ("true sigma map", map_mean),
        (f"best single sigma for the set ({GRID[set_best]:g})", float(single_psnr[:, set_best].mean())),
        ("best single sigma per image (oracle)", float(single_psnr.max(axis=1).mean())),
    ]
    lines = [
        f"Made by `{command_line(PROG, argv)}` with {denoiser.name}: {len(paths)} images of {args.dataset}, noise "
        f"sigma rising linearly from {RAMP[0]:g} to {RAMP[1]:g} (/255) across the width; single sigmas tried: "
        f"{', '.join(f'{s:g}' for s in GRID)}. Mean PSNR in dB.",
        "",
        "| denoised with | PSNR | the map's gain |",
        "|---|---:|---:|",
        *(f"| {name} | {value:.2f} | {map_mean - value:+.2f} |" for name, value in rows),
    ]
    return write_report(args.out, lines)


if __name__ == "__main__":
    sys.exit(main())
