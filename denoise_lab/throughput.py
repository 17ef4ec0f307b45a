"""``python -m denoise_lab.throughput --config ...``: training speed of a recipe under each setting.

``make bench-train`` passes the ``make train`` configs (``TRAINER=cpu|gpu``, ``EXPERIMENT=colour|grey``). Each
setting (memory layout, ``torch.compile``; optionally each batch size and precision, e.g. bf16 autocast on a CPU
with bf16 instructions) trains that recipe for a few steps in this process, without
validation, checkpoints or logger, and :class:`~denoise.training.speed.TrainingSpeed` times the steps after the
first few. With ``--repeats`` the settings take turns, round after round, and each reports its median, so a
machine whose speed drifts (a shared CPU) does not favour whichever setting ran in a fast moment. The table
(steps per second, megapixels of patches per second, peak accelerator memory) goes to a Markdown file, so the
setting a long run uses is picked by measurement on the machine that will run it.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from pathlib import Path

import torch

from denoise.train import build_cli
from denoise.training.speed import TrainingSpeed
from denoise.utils.files import atomic_write_text
from denoise.utils.machine import machine_description

SETTINGS = {
    "NCHW": ["--model.channels_last=false", "--model.compile=false"],
    "channels_last": ["--model.channels_last=true", "--model.compile=false"],
    "NCHW + torch.compile": ["--model.channels_last=false", "--model.compile=true"],
    "channels_last + torch.compile": ["--model.channels_last=true", "--model.compile=true"],
}
QUIET = [
    "--trainer.logger=false",
    "--trainer.enable_checkpointing=false",
    "--trainer.callbacks=[]",
    "--trainer.limit_val_batches=0",
    "--trainer.num_sanity_val_steps=0",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
]


def measure(configs: list[str], overrides: list[str], steps: int, skip: int, data_cache: dict | None = None) -> dict:
    """Train ``configs`` + ``overrides`` for ``skip + steps`` steps; the speed of the last ``steps``.

    ``data_cache`` (a dict kept across calls) reuses a data module whose settings match, so the training images
    are decoded once per data setting, not once per run.

    Returns:
        steps_per_s, patch_mp_per_s, batch, patch, precision (the trainer's), peak_memory_gib (None off CUDA),
        device.
    """
    args = [item for config in configs for item in ("--config", config)]
    cli = build_cli([*args, *QUIET, f"--trainer.max_steps={skip + steps}", *overrides])
    speed = TrainingSpeed(skip=skip)
    cli.trainer.callbacks.append(speed)
    cuda = torch.cuda.is_available() and cli.trainer.strategy.root_device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    key = repr(sorted(cli.datamodule.hparams.items()))
    datamodule = cli.datamodule if data_cache is None else data_cache.setdefault(key, cli.datamodule)
    cli.trainer.fit(cli.model, datamodule)
    data = datamodule.hparams
    return {
        "steps_per_s": speed.steps_per_second,
        "patch_mp_per_s": speed.patch_megapixels / speed.seconds if speed.seconds else 0.0,
        "timed_steps": speed.steps,
        "batch": data.batch_size,
        "patch": data.patch_size,
        "precision": str(cli.trainer.precision),
        "peak_memory_gib": torch.cuda.max_memory_allocated() / 2**30 if cuda else None,
        "device": torch.cuda.get_device_name() if cuda else "CPU",
    }


def render(runs: dict[str, list[dict]], command: str) -> str:
    """The Markdown report: one row per setting (the median of its runs, and their range), the fastest first."""
    first = next(iter(runs.values()))
    lines = [
        f"Training speed per setting: `{command}`.",
        f"Machine: {machine_description()}; device {first[0]['device']}. Each setting ran {len(first)} time(s), "
        "the settings taking turns; steps/s is the median, with the range.",
        "",
        "| setting | batch x patch | precision | steps timed per run | steps / s | range | patch MP / s "
        "| peak memory |",
        "|---|---|---|---:|---:|---|---:|---:|",
    ]
    median = {name: statistics.median(run["steps_per_s"] for run in rows) for name, rows in runs.items()}
    for name in sorted(runs, key=lambda name: -median[name]):
        rows, row = runs[name], runs[name][0]
        rates = [run["steps_per_s"] for run in rows]
        memory = max((run["peak_memory_gib"] or 0 for run in rows), default=0)
        lines.append(
            f"| {name} | {row['batch']} x {row['patch']}^2 | {row['precision']} | {row['timed_steps']} | "
            f"{median[name]:.2f} | "
            f"{min(rates):.2f}-{max(rates):.2f} | {statistics.median(run['patch_mp_per_s'] for run in rows):.2f} | "
            f"{f'{memory:.1f} GiB' if row['peak_memory_gib'] is not None else '-'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.throughput", description=__doc__.split("\n")[0])
    parser.add_argument("--config", action="append", required=True, help="a training config (repeat, in order)")
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--steps", type=int, default=20, help="timed steps per setting")
    parser.add_argument("--skip", type=int, default=5, help="untimed first steps (compiles, kernel searches)")
    parser.add_argument("--repeats", type=int, default=1, help="rounds: each setting runs this many times")
    parser.add_argument("--batch-sizes", type=int, nargs="+", metavar="B",
                        help="also vary the batch (patches per step): every setting at each size")  # fmt: skip
    parser.add_argument("--precisions", nargs="+", metavar="P",
                        help="also vary the precision (32-true bf16-mixed): every setting at each")  # fmt: skip
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="an extra override for every run, e.g. --set data.patch_size=96")  # fmt: skip
    parser.add_argument("--out", default="results/train_throughput.md", help="the Markdown report")
    args = parser.parse_args(argv)
    missing = [config for config in args.config if not Path(config).is_file()]
    if missing or min(args.steps, args.skip, args.repeats) < 1:
        problem = f"config {missing[0]} not found" if missing else "--steps, --skip and --repeats must be at least 1"
        print(f"error: {problem}", file=sys.stderr)
        return 2
    extra = [f"--{item}" for item in args.set]
    variants = {}  # row name -> overrides: each setting, at each batch size and precision when they vary
    for batch, precision, name in itertools.product(
        args.batch_sizes or [None], args.precisions or [None], args.settings
    ):
        label = name + (f", batch {batch}" if batch else "") + (f", {precision}" if precision else "")
        size = [f"--data.batch_size={batch}"] if batch else []
        variants[label] = [*SETTINGS[name], *size, *([f"--trainer.precision={precision}"] if precision else [])]
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    data_cache: dict = {}
    plan = [(round_, name) for round_ in range(1, args.repeats + 1) for name in variants]
    for index, (round_, name) in enumerate(plan, 1):
        print(f"[{index}/{len(plan)}] {name}, round {round_}: {args.skip} + {args.steps} steps", flush=True)
        run = measure(args.config, [*variants[name], *extra], args.steps, args.skip, data_cache)
        runs[name].append(run)
        print(f"  {run['steps_per_s']:.2f} steps/s, {run['patch_mp_per_s']:.2f} patch MP/s", flush=True)
    command = " ".join(["python -m denoise_lab.throughput", *(sys.argv[1:] if argv is None else argv)])
    atomic_write_text(args.out, render(runs, command))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
