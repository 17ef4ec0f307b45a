"""``python -m denoise_lab.curves``: validation curves of recorded training runs -> a table and a plot.

A run is a Lightning ``metrics.csv`` (CSVLogger) copied into ``results/training/`` and described in that
folder's ``runs.json`` (``{"file.csv": "what the run was"}``). Writes ``results/training.md`` (the last
validation PSNR of each run at every sigma) and ``results/training.png`` (PSNR at sigma 25 against the step).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from denoise.utils.files import atomic_write_text
from denoise.utils.plots import pyplot, save_figure

PLOT_SIGMA = "25"


def read_validation(path: Path) -> list[dict[str, float]]:
    """Rows of ``path`` that hold validation scores: ``{"step": ..., "15": psnr, "25": psnr, ...}``."""
    rows = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            scores = {
                key.removeprefix("val/psnr_"): float(value)
                for key, value in row.items()
                if key.startswith("val/psnr_") and value
            }
            if scores:
                rows.append({"step": float(row["step"]) + 1, **scores})
    return rows


def load_runs(folder: Path, runs: dict[str, str]) -> dict[str, tuple[str, list[dict[str, float]]]]:
    """Each run's description and validation rows, read once; a run without validation rows is an error."""
    loaded = {}
    for name, description in runs.items():
        rows = read_validation(folder / name)
        if not rows:
            raise ValueError(f"{folder / name} holds no validation scores (val/psnr_*)")
        loaded[name] = (description, rows)
    return loaded


def table(runs: dict[str, tuple[str, list[dict[str, float]]]]) -> str:
    """Markdown: one line per run (from :func:`load_runs`) with its last validation PSNR at each sigma."""
    lines = []
    for name, (description, rows) in runs.items():
        last = rows[-1]
        sigmas = sorted((key for key in last if key != "step"), key=float)
        if not lines:
            lines += [
                f"| run | what | steps | {' | '.join(f'PSNR {s}' for s in sigmas)} |",
                "|---|---|---:|" + "---:|" * len(sigmas),
            ]
        cells = " | ".join(f"{last[s]:.2f}" for s in sigmas)
        lines.append(f"| `{name}` | {description} | {int(last['step'])} | {cells} |")
    return "\n".join(lines)


def plot(runs: dict[str, tuple[str, list[dict[str, float]]]], output: Path) -> None:
    """PSNR at ``PLOT_SIGMA`` against the step, one line per run (from :func:`load_runs`), named by its file."""
    figure, axes = pyplot().subplots(figsize=(10, 4.5))
    for name, (_, all_rows) in runs.items():  # labelled by file: the table beside the plot describes each run
        rows = [row for row in all_rows if PLOT_SIGMA in row]
        label = Path(name).stem
        axes.plot([row["step"] for row in rows], [row[PLOT_SIGMA] for row in rows], marker=".", label=label)
    axes.set_xlabel("step of the run")
    axes.set_ylabel(f"validation PSNR at sigma {PLOT_SIGMA} (dB)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save_figure(figure, output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.curves", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=Path("results/training"))
    parser.add_argument(
        "--out", type=Path, default=Path("results/training.md"), help="the table (.md); the plot goes beside it as .png"
    )
    args = parser.parse_args(argv)
    index = args.folder / "runs.json"
    if not index.is_file():
        print(f'error: {index} is missing: describe each metrics CSV there as {{"file.csv": "what"}}', file=sys.stderr)
        return 2
    try:
        runs = load_runs(args.folder, json.loads(index.read_text()))
    except (OSError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    header = (
        "Validation curves of the recorded training runs (`python -m denoise_lab.curves`): the last "
        "validation PSNR (dB) of each run, on the validation images its config names.\n\n"
    )
    atomic_write_text(args.out, header + table(runs) + "\n")
    plot(runs, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
