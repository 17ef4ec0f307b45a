"""``python -m denoise_lab.bench_files``: time and peak memory of whole CLI runs on the paths ``bench`` omits.

Each case runs ``python -m denoise.infer`` in a fresh process on a file written here, and reports the wall time
of the whole run and its peak resident memory (``VmHWM``):

- a camera raw DNG (a photo unprocessed to synthetic raw at ISO 1600, its NoiseProfile tag set) -> a DNG, with
  the shipped raw model, at 1 and 24 megapixels of mosaic, with its default self-ensemble and with one view;
- a colour photo without ``--sigma`` (the shipped blind model), at 1 and 24 megapixels, with its default
  self-ensemble and with one view (``--ensemble 1``);
- on a CPU that computes bfloat16 natively, the raw and the default photo runs again with ``--precision bfloat16``;
- PMRID, the raw peer, on the same 24 MP raw: read and packed the same way, denoised, not written (its weights
  from ``--pmrid``).

Writes ``results/bench_files.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import skimage.data
import torch

from denoise.data.raw_synthesis import seeded_synthetic_raw
from denoise.denoiser import BLIND_ENSEMBLE
from denoise.io import ImageData, write_image
from denoise.precision import native_bfloat16
from denoise.raw.cfa import Packing, unpack
from denoise.raw.cfa import pack as pack_mosaic
from denoise.raw.dng import RawImage, dng_tags, read_raw, write_dng
from denoise.raw.noise_profile import profile_from_iso
from denoise.raw.views import RAW_ENSEMBLE
from denoise.utils.machine import machine_description
from denoise_lab.bench import SIZES, peak_rss_mib
from denoise_lab.leaderboard.raw import DEFAULT_PMRID
from denoise_lab.tables import publish

ISO = 1600
BLACK, WHITE = 512, 16383


def photo(height: int, width: int) -> np.ndarray:
    """scikit-image's astronaut resized to H x W, float32 RGB on [0, 1]."""
    return cv2.resize(skimage.data.astronaut(), (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255


def write_raw_file(path: Path, height: int, width: int, clean_path: Path | None = None, iso: float = ISO) -> None:
    """A DNG of synthetic raw of the photo at ``iso`` (RGGB, 14-bit levels, its NoiseProfile); with
    ``clean_path``, the same raw without noise there too."""
    srgb = torch.from_numpy(photo(height, width)).permute(2, 0, 1)[None]
    raw = seeded_synthetic_raw(srgb, iso, 0)
    del srgb
    packing = Packing((height, width), 0, 0, 0, 0)  # an RGGB mosaic of even size: planes without a border
    profile = profile_from_iso(iso)
    tags = dng_tags("RGGB", np.full(4, BLACK), WHITE, noise_profile=profile, iso=iso, camera="denoise bench",
                    make="denoise", model="bench")  # fmt: skip
    for target, planes in ((path, raw.noisy), (clean_path, raw.clean)):
        if target is None:
            continue
        values = unpack(planes[0].numpy(), packing)
        mosaic = np.clip(np.round(BLACK + values * (WHITE - BLACK)), 0, 65535).astype(np.uint16)
        black = np.full((2, 2), float(BLACK))
        write_dng(target, RawImage(mosaic, (0, 0, height, width), "RGGB", black, WHITE, profile, iso, tags), mosaic)


def worker(args: argparse.Namespace) -> None:
    """In a fresh process: one CLI run (or PMRID on a DNG's planes); print one JSON line."""
    start = time.perf_counter()
    if args.pmrid:
        from denoise.baselines.pmrid import pmrid_denoise

        image = read_raw(args.input)
        planes, _ = pack_mosaic(image.normalised(), image.pattern)
        pmrid_denoise(planes, image.noise_profile.shot, image.noise_profile.read, args.pmrid)
        code = 0
    else:
        from denoise.infer import main as infer

        code = infer([args.input, "-o", args.output, "-q", *args.extra])
    print(json.dumps({"code": code, "seconds": time.perf_counter() - start, "peak_rss_mib": peak_rss_mib()}))


def run(input_path: Path, output: Path, extra: list[str], pmrid: Path | None = None) -> dict:
    command = [sys.executable, "-m", "denoise_lab.bench_files", "--worker", "--input", str(input_path),
               "--output", str(output), *(["--pmrid", str(pmrid)] if pmrid else []), "--", *extra]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        raise RuntimeError(f"benchmark worker failed: {' '.join(command)}\n{result.stderr}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if report["code"]:
        raise RuntimeError(f"the CLI failed on {input_path}: {result.stderr.strip()}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.bench_files", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,24", help="megapixels, of " + ", ".join(map(str, SIZES)))
    parser.add_argument("--pmrid", type=Path, default=DEFAULT_PMRID, help="PMRID's torch_pretrained.ckp")
    parser.add_argument("--out", type=Path, default=Path("results/bench_files.md"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    parser.add_argument("extra", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.pmrid = str(args.pmrid) if args.pmrid and "--pmrid" in sys.argv else None
        worker(args)
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        for megapixels in (int(value) for value in args.sizes.split(",")):
            height, width = SIZES[megapixels]
            dng, png = workdir / f"raw{megapixels}.dng", workdir / f"photo{megapixels}.png"
            write_raw_file(dng, height, width)
            noisy = photo(height, width) + 0.04 * np.random.default_rng(0).standard_normal((height, width, 3))
            write_image(png, ImageData(np.round(np.clip(noisy, 0, 1) * 255).astype(np.uint8)))
            dng_out = workdir / "out.dng"
            cases = [(f"camera raw DNG -> DNG (denoise-raw, its default {RAW_ENSEMBLE} views)", dng, dng_out, [], None),
                     ("camera raw DNG -> DNG, --ensemble 1 (denoise-raw, one view)", dng, dng_out, ["--ensemble", "1"],
                      None),
                     (f"colour photo, no --sigma (denoise-real, its default {BLIND_ENSEMBLE} views)", png,
                      workdir / "out.png", [], None),
                     ("colour photo, no --sigma, --ensemble 1 (denoise-real, one view)", png, workdir / "out.png",
                      ["--ensemble", "1"], None)]  # fmt: skip
            if native_bfloat16(torch.device("cpu")):
                fast = ["--precision", "bfloat16"]
                cases += [
                    ("camera raw DNG -> DNG, --precision bfloat16", dng, dng_out, fast, None),
                    ("colour photo, no --sigma, --precision bfloat16", png, workdir / "out.png", fast, None),
                ]
            if megapixels == max(SIZES) and args.pmrid.is_file():
                cases.append(
                    ("PMRID on the same raw (read and packed; no DNG written)", dng, workdir / "x", [], args.pmrid)
                )
            for label, source, target, extra, pmrid in cases:
                report = run(source, target, extra, pmrid)
                target.unlink(missing_ok=True)
                rows.append((label, megapixels, report["seconds"], report["peak_rss_mib"]))
                print(f"{label}, {megapixels} MP: {report['seconds']:.1f} s, {report['peak_rss_mib']:.0f} MiB")
    lines = [
        f"Made by `python -m denoise_lab.bench_files` on {machine_description()}: one fresh process per row, "
        "wall time of the whole run (reading, denoising, writing) and its peak resident memory.",
        "",
        "| case | MP | seconds | s / MP | peak memory (GiB) |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {label} | {mp} | {seconds:.1f} | {seconds / mp:.2f} | {rss / 1024:.2f} |"
            for label, mp, seconds, rss in rows
        ),
    ]
    publish(args.out, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
