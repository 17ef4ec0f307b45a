"""``python -m denoise_lab.summary``: the README's short quality-and-speed table, from ``results/leaderboard.csv``.

Per benchmark set: each method's PSNR averaged over sigma 15, 25 and 50 (/255) and its seconds per megapixel,
for the shipped model of the set's kind (colour or grey), FFDNet, BM3D and the bilateral filter. A cell the
leaderboard has not computed for every sigma says so. The full tables are in ``docs/leaderboard.md``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

from denoise.utils.files import atomic_write_text
from denoise_lab.leaderboard.report import summarise
from denoise_lab.model_card import read_rows

SIGMAS = (15.0, 25.0, 50.0)
SETS = {"CBSD68": "denoise-colour", "Kodak24": "denoise-colour", "McMaster": "denoise-colour",
        "BSD68": "denoise-grey", "Set12": "denoise-grey"}  # fmt: skip
PEERS = (("ffdnet", "FFDNet"), ("bm3d", "BM3D"), ("bilateral", "bilateral"))


def cell(stats: dict | None, machines: list[str] | None = None) -> str:
    """``mean PSNR (s/MP)``, or a dash when some sigma is missing; † when timed elsewhere than ``machines``."""
    if stats is None or any(sigma not in stats["psnr"] for sigma in SIGMAS):
        return "-"
    mean = sum(stats["psnr"][sigma] for sigma in SIGMAS) / len(SIGMAS)
    elsewhere = "†" if machines is not None and stats["machines"] != machines else ""
    return f"{mean:.2f} ({stats['s_per_mp']:.2f} s/MP{elsewhere})"


def steps_per_second(table: Path, setting: str = "NCHW") -> tuple[float, str] | None:
    """``setting``'s steps/s in a ``make bench-train`` table, and the device the table names; None if absent.

    The columns are found by the header (a table with ``--precisions`` has one more), the first row of the
    setting counts, and the device is the ``device ...`` of the table's machine line (``CPU`` if unnamed).
    """
    if not table.is_file():
        return None
    text = table.read_text()
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.startswith("|") and not line.startswith("|---")]  # fmt: skip
    if not rows or "steps / s" not in rows[0]:
        return None
    column = rows[0].index("steps / s")
    rates = [float(row[column]) for row in rows[1:] if row[0] == setting and len(row) > column]
    if not rates:
        return None
    device = re.search(r"; device (.+?)\. ", text)
    return rates[0], device[1].strip() if device else "CPU"


def config_recipe(trainer_config: Path) -> tuple[str, int | None]:
    """The memory layout a trainer config trains in (the throughput table's setting name) and its batch size."""
    config = (yaml.safe_load(trainer_config.read_text()) if trainer_config.is_file() else None) or {}
    layout = "channels_last" if (config.get("model") or {}).get("channels_last") else "NCHW"
    return layout, (config.get("data") or {}).get("batch_size")


def training_time(results: Path, long_config: Path, gpu_config: Path = Path("configs/trainer/gpu.yaml")) -> str:
    """How long a from-scratch ``make train`` takes on 2 CPU cores and with ``TRAINER=gpu``, at measured speeds."""
    steps = (yaml.safe_load(long_config.read_text()) or {}).get("trainer", {}).get("max_steps")
    cpu = steps_per_second(results / "train_throughput_cpu.md")
    if not steps or cpu is None:
        return "Training time: not measured yet (`make bench-train`)."
    text = (
        f"A from-scratch `make train` ({steps} steps of 16 patches of 128 x 128) takes about "
        f"{steps / cpu[0] / 3600:.0f} h on 2 CPU cores at the {cpu[0]:.2f} steps/s `make bench-train` measured "
        "(`results/train_throughput_cpu.md`); "
    )
    layout, batch = config_recipe(gpu_config)
    gpu = steps_per_second(results / "train_throughput_gpu.md", layout)
    if gpu is None:
        return text + "on a GPU it has not been timed yet (`make bench-train TRAINER=gpu`)."
    rate, device = gpu
    return text + (
        f"`make train TRAINER=gpu` ({steps} steps of {batch or 16} patches, {layout}) about "
        f"{steps / rate / 60:.0f} min on one {device} at the {rate:.0f} steps/s measured there "
        "(`results/train_throughput_gpu.md`)."
    )


def render(rows: list[dict], training: str = "") -> str:
    summary = summarise(rows)
    header = ["set", "ours (shipped)", *(label for _, label in PEERS)]
    lines = [
        "Mean PSNR (dB) over sigma 15, 25 and 50 (/255) and seconds per megapixel on 2 CPU cores, from "
        "`results/leaderboard.csv` (`make leaderboard`); - where a method was not run at every sigma; † timed on "
        "another machine than our model in that row, so not comparable with it.",
        "",
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
    ]
    for dataset, ours in SETS.items():
        methods = summary.get(dataset)
        if not methods:
            continue
        machines = (methods.get(ours) or {}).get("machines")
        cells = [cell(methods.get(ours)), *(cell(methods.get(method), machines) for method, _ in PEERS)]
        lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
    if training:
        lines += ["", training]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.summary", description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"), help="folder with leaderboard.csv")
    parser.add_argument("--long-config", type=Path, default=Path("configs/trainer/long.yaml"), help="max_steps")
    args = parser.parse_args(argv)
    source = args.results / "leaderboard.csv"
    if not source.is_file():
        print(f"error: {source} does not exist: run `make leaderboard` first", file=sys.stderr)
        return 2
    out = args.results / "summary.md"
    atomic_write_text(out, render(read_rows(source), training_time(args.results, args.long_config)))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
