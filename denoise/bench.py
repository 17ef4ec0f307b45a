"""``python -m denoise.bench``: seconds per megapixel and peak memory of full-resolution denoising.

Each method x size runs in a fresh process that reads a PNG, denoises it and writes the result, as the
CLI does; the process reports the wall time of the denoising call alone, of the whole file-to-file run,
and its peak resident memory (``VmHWM``). Images are a photo scaled to 1, 4 and 24 megapixels with
Gaussian noise (sigma 25/255). Networks are timed with the shipped checkpoints when present, else with the
default architecture's untrained weights (speed and memory do not depend on the weights). Writes
``results/bench.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import skimage.data
import torch

from denoise.checkpoint import DEFAULT_CHECKPOINTS, checkpoint_dir, save_checkpoint
from denoise.denoiser import Denoiser
from denoise.io import ImageData, read_image, write_image
from denoise.models import create_model
from denoise.models.profile import count_parameters, gmacs_per_megapixel
from denoise.utils.files import atomic_write_text
from denoise.utils.machine import machine_description

SIZES = {1: (816, 1224), 4: (1632, 2448), 24: (4000, 6000)}  # megapixels -> (height, width)
SIGMA = 25 / 255


def make_test_image(height: int, width: int, path: Path) -> None:
    """A noisy photo of the given size (scikit-image's astronaut, resized), saved as 8-bit PNG."""
    clean = cv2.resize(skimage.data.astronaut(), (width, height), interpolation=cv2.INTER_CUBIC) / 255.0
    noisy = clean + SIGMA * np.random.default_rng(0).standard_normal(clean.shape)
    write_image(path, ImageData(np.round(np.clip(noisy, 0, 1) * 255).astype(np.uint8)))


def peak_rss_mib() -> float:
    """Peak resident memory of this process, in MiB.

    ``VmHWM`` of /proc/self/status is the high-water mark of this process's own memory map. ``ru_maxrss``
    is not used where /proc exists: a child started by vfork + exec inherits its parent's high-water mark.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB -> MiB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(args: argparse.Namespace) -> None:
    """Run in a fresh process: file -> denoise -> file; print one JSON line."""
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    start = time.perf_counter()
    if args.method:
        denoiser = Denoiser.from_method(args.method, device="cpu")
    else:
        denoiser = Denoiser.from_checkpoint(args.checkpoint, device="cpu")
    image = read_image(args.image)
    denoise_start = time.perf_counter()
    result = denoiser(image.to_float(), SIGMA)
    denoise_seconds = time.perf_counter() - denoise_start
    write_image(args.output, image.with_pixels_from_float(result))
    report = {
        "denoise_seconds": denoise_seconds,
        "total_seconds": time.perf_counter() - start,
        "peak_rss_mib": peak_rss_mib(),
    }
    print(json.dumps(report))


def methods(workdir: Path) -> dict[str, list[str]]:
    """Method label -> worker arguments: shipped checkpoints (or the default architecture) and bilateral."""
    shipped = {c: checkpoint_dir() / name for c, name in DEFAULT_CHECKPOINTS.items()}
    if shipped[3].is_file():
        chosen = {f"shipped {shipped[3].name}": ["--checkpoint", str(shipped[3])]}
    else:
        path = workdir / "unet_default.pt"
        save_checkpoint(path, create_model("unet"), note="untrained: speed and memory only")
        chosen = {"unet, default config (untrained weights: speed only)": ["--checkpoint", str(path)]}
    return {**chosen, "bilateral (tuned)": ["--method", "bilateral"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,4,24", help="megapixels to measure, of 1, 4, 24")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads")
    parser.add_argument("--out", type=Path, default=Path("results/bench.md"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--image", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", help=argparse.SUPPRESS)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    sizes = [int(size) for size in args.sizes.split(",")]
    if any(size not in SIZES for size in sizes):
        parser.error(f"--sizes takes values among {', '.join(map(str, SIZES))}")

    model = create_model("unet")
    lines = [
        f"Made by `python -m denoise.bench --sizes {args.sizes} --threads {args.threads}` on {machine_description()}.",
        f"Noisy photo at sigma 25/255, file -> denoise -> file in a fresh process per row, {args.threads} threads. "
        f"Default `unet`: {count_parameters(model) / 1e6:.2f} M parameters, "
        f"{gmacs_per_megapixel(model, 3):.1f} GMACs/MP.",
        "",
        "| method | image | megapixels | denoise s/MP | file-to-file s/MP | peak RSS (MiB) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory(prefix="denoise-bench-") as folder:
        workdir = Path(folder)
        for size in sizes:
            height, width = SIZES[size]
            image = workdir / f"noisy_{size}mp.png"
            make_test_image(height, width, image)
            for label, method_args in methods(workdir).items():
                command = [
                    sys.executable,
                    "-m",
                    "denoise.bench",
                    "--worker",
                    "--image",
                    str(image),
                    "--output",
                    str(workdir / "out.png"),
                    "--threads",
                    str(args.threads),
                    *method_args,
                ]
                result = subprocess.run(command, capture_output=True, text=True, check=False)
                if result.returncode:
                    print(result.stderr, file=sys.stderr)
                    return 1
                report = json.loads(result.stdout.strip().splitlines()[-1])
                megapixels = height * width / 1e6
                lines.append(
                    f"| {label} | {width}x{height} | {megapixels:.1f} | {report['denoise_seconds'] / megapixels:.3f} "
                    f"| {report['total_seconds'] / megapixels:.3f} | {report['peak_rss_mib']:.0f} |"
                )
                print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    atomic_write_text(args.out, text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
