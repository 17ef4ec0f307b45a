"""``python -m denoise_lab.leaderboard``: rank denoisers by PSNR/SSIM on the benchmark sets under one protocol.

Writes ``results/leaderboard.csv`` (one row per method x image x sigma), ``results/leaderboard.md`` (per
set: methods x sigma, best in bold, seconds per MP and parameters, the protocol and machine on top) and
``results/leaderboard.png``. Per-image results are cached in ``results/leaderboard_cache.jsonl``, so a re-run
computes only what is new; ``--prune-cache`` drops the cached rows of superseded versions of the methods ranked
(e.g. of an older shipped checkpoint). Each row records the machine that timed it; the tables mark times
taken on another machine than the run's, and ``--retime`` computes those again here; ``--recompute`` computes
every row again, so the methods ranked are timed side by side in one run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import torch

from denoise.checkpoint import CheckpointError
from denoise.utils.files import atomic_write_text
from denoise.utils.machine import machine_description
from denoise_lab.leaderboard.cache import ResultCache
from denoise_lab.leaderboard.methods import builtin_methods, resolve_methods
from denoise_lab.leaderboard.report import plot, summarise, to_csv, to_markdown
from denoise_lab.leaderboard.runner import resolve_benchmark, run

QUICK_IMAGES = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.leaderboard", description=__doc__.splitlines()[0])
    parser.add_argument("--methods", help=f"comma-separated, of {', '.join(builtin_methods())} (default: all)")
    parser.add_argument("--checkpoints", nargs="*", type=Path, default=[], help="extra checkpoints to rank")
    parser.add_argument("--datasets", default="CBSD68,Kodak24,McMaster,BSD68,Set12", help="registered names or folders")
    parser.add_argument("--sigmas255", default="15,25,50", help="noise levels in 8-bit units (/255)")
    parser.add_argument("--out", type=Path, default=Path("results"), help="output folder")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="CPU threads")
    parser.add_argument("--quick", action="store_true", help=f"only the first {QUICK_IMAGES} images of each set")
    parser.add_argument("--cached-only", action="store_true", help="compute nothing: report the cached results")
    parser.add_argument(
        "--prune-cache",
        action="store_true",
        help="first drop cached rows of older versions of the methods ranked (e.g. a replaced checkpoint)",
    )
    parser.add_argument(
        "--retime",
        action="store_true",
        help="compute again the cached rows timed on another machine, so all seconds per MP are comparable "
        "(with --cached-only: leave them out)",
    )
    parser.add_argument(
        "--recompute",
        action="store_true",
        help="ignore the cache: compute every row again (replacing the cached one), so the methods ranked are "
        "timed side by side in this run",
    )
    args = parser.parse_args(argv)
    if args.recompute and args.cached_only:
        parser.error("--recompute computes every row and --cached-only none: choose one")
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    try:
        sigmas = [float(value) for value in args.sigmas255.split(",")]
        names = args.methods.split(",") if args.methods else None
        methods = resolve_methods(names, args.checkpoints)
        benchmarks = [resolve_benchmark(name) for name in args.datasets.split(",")]
    except (ValueError, FileNotFoundError, CheckpointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    cache = ResultCache(args.out / "leaderboard_cache.jsonl")
    if args.prune_cache:
        available = {method.name: method.key for method in methods if not method.unavailable}
        print(f"pruned {cache.prune(available)} cached rows of superseded method versions", file=sys.stderr)
    machine = machine_description()
    max_images = QUICK_IMAGES if args.quick else None
    rows, skipped, set_sizes = run(
        methods,
        benchmarks,
        sigmas,
        cache,
        max_images,
        args.cached_only,
        machine=machine,
        retime=args.retime,
        recompute=args.recompute,
    )
    if args.recompute:
        cache.compact()
    command = "python -m denoise_lab.leaderboard " + " ".join(sys.argv[1:] if argv is None else argv)
    header = [f"Made by `{command}` on {machine}, {args.threads} threads."]
    summary = summarise(rows)
    atomic_write_text(args.out / "leaderboard.csv", to_csv(rows))
    markdown = to_markdown(summary, header, skipped, set_sizes, machine)
    atomic_write_text(args.out / "leaderboard.md", markdown)
    plot(summary, args.out / "leaderboard.png", machine)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
