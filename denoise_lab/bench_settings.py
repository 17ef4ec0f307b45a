"""``python -m denoise_lab.bench_settings``: which CPU settings run the default network fastest?

``make bench`` times three backends; this is the search behind its "best settings" row. Each setting runs
in a fresh process (the worker of :mod:`denoise_lab.bench`) that denoises the same noisy photo several times:
the first call is cold (what one CLI run pays: thread pools, memory, and for ``torch.compile`` the
compilation, with inductor's on-disk cache disabled), the best later call is the steady state. Settings:
memory layout (NCHW vs channels_last), thread count, ``torch.compile`` (inductor), onnxruntime and, on a CPU
that computes bfloat16 natively, ``--precision bfloat16`` (:mod:`denoise.precision`), all under
``torch.inference_mode`` as the CLI runs. Writes ``results/bench_settings.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import torch

from denoise.precision import native_bfloat16
from denoise.utils.files import atomic_write_text
from denoise.utils.machine import machine_description
from denoise_lab.bench import SIZES, default_network, make_test_image, run_worker

CALLS = 3


def settings(checkpoint: Path, onnx: Path | None, threads: int) -> list[tuple[str, int, list[str]]]:
    """(setting, threads, worker arguments) for every measured setting."""
    model = ["--checkpoint", str(checkpoint)]
    fewer = max(1, threads // 2)
    selected = [
        ("torch eager, NCHW", threads, [*model, "--eager"]),
        ("torch channels_last", threads, model),
        ("torch channels_last", fewer, model),
        ("torch channels_last + torch.compile", threads, [*model, "--compile"]),
    ]
    if native_bfloat16(torch.device("cpu")):
        fast = [*model, "--precision", "bfloat16"]
        selected += [("torch channels_last, bfloat16", threads, fast), ("torch channels_last, bfloat16", fewer, fast)]
    if onnx is not None:
        selected += [("onnxruntime", threads, ["--onnx", str(onnx)]), ("onnxruntime", fewer, ["--onnx", str(onnx)])]
    # on one thread "fewer threads" is the same run: keep each (setting, threads) once, in order
    return list({(name, count): (name, count, arguments) for name, count, arguments in selected}.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.bench_settings", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1, choices=sorted(SIZES), help="megapixels of the test photo")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="the most CPU threads to try")
    parser.add_argument("--out", type=Path, default=Path("results/bench_settings.md"))
    args = parser.parse_args(argv)
    height, width = SIZES[args.size]
    megapixels = height * width / 1e6
    rows = []
    with tempfile.TemporaryDirectory(prefix="denoise-bench-settings-") as folder:
        workdir = Path(folder)
        checkpoint, label, onnx, _ = default_network(workdir)
        image = workdir / "noisy.png"
        make_test_image(height, width, image)
        for name, threads, arguments in settings(checkpoint, onnx, args.threads):
            try:
                report = run_worker(image, workdir / "out.png", threads, [*arguments, "--calls", str(CALLS)])
            except RuntimeError as error:
                print(error, file=sys.stderr)
                return 1
            cold, *warm = (seconds / megapixels for seconds in report["call_seconds"])
            rows.append(f"| {name} | {threads} | {cold:.3f} | {min(warm):.3f} | {report['peak_rss_mib']:.0f} |")
            print(rows[-1], flush=True)
    lines = [
        f"Made by `python -m denoise_lab.bench_settings --size {args.size} --threads {args.threads}` on "
        f"{machine_description()}.",
        f"{label}, a {width}x{height} noisy photo (sigma 25/255) denoised {CALLS} times in a fresh process per row. "
        "Cold: the first call (a CLI run pays it once per image); warm: the best later call. Seconds per MP.",
        "",
        "| setting | threads | cold s/MP | warm s/MP | peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|",
        *rows,
    ]
    atomic_write_text(args.out, "\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
