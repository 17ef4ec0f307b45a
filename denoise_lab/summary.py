"""``python -m denoise_lab.summary``: the README's short quality-and-speed table, from ``results/leaderboard.csv``.

Per benchmark set: each method's PSNR averaged over sigma 15, 25 and 50 (/255) and its seconds per megapixel,
for the shipped model of the set's kind (colour or grey), FFDNet, BM3D and the bilateral filter. A cell the
leaderboard has not computed for every sigma says so. The full tables are in ``docs/leaderboard.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from denoise.utils.files import atomic_write_text
from denoise_lab.leaderboard.report import summarise
from denoise_lab.model_card import read_rows

SIGMAS = (15.0, 25.0, 50.0)
SETS = {"CBSD68": "denoise-colour", "Kodak24": "denoise-colour", "McMaster": "denoise-colour",
        "BSD68": "denoise-grey", "Set12": "denoise-grey"}  # fmt: skip
PEERS = (("ffdnet", "FFDNet"), ("bm3d", "BM3D"), ("bilateral", "bilateral"))


def cell(stats: dict | None) -> str:
    """``mean PSNR (s/MP)``, or a dash when some sigma is missing."""
    if stats is None or any(sigma not in stats["psnr"] for sigma in SIGMAS):
        return "-"
    mean = sum(stats["psnr"][sigma] for sigma in SIGMAS) / len(SIGMAS)
    return f"{mean:.2f} ({stats['s_per_mp']:.2f} s/MP)"


def render(rows: list[dict]) -> str:
    summary = summarise(rows)
    header = ["set", "ours (shipped)", *(label for _, label in PEERS)]
    lines = [
        "Mean PSNR (dB) over sigma 15, 25 and 50 (/255) and seconds per megapixel on 2 CPU threads, from "
        "`results/leaderboard.csv` (`make leaderboard`); - where a method was not run at every sigma.",
        "",
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
    ]
    for dataset, ours in SETS.items():
        methods = summary.get(dataset)
        if not methods:
            continue
        cells = [cell(methods.get(ours)), *(cell(methods.get(method)) for method, _ in PEERS)]
        lines.append(f"| {dataset} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.summary", description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"), help="folder with leaderboard.csv")
    args = parser.parse_args(argv)
    source = args.results / "leaderboard.csv"
    if not source.is_file():
        print(f"error: {source} does not exist: run `make leaderboard` first", file=sys.stderr)
        return 2
    out = args.results / "summary.md"
    atomic_write_text(out, render(read_rows(source)))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
