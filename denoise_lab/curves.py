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


# validation keys of the recorded runs -> the column they go in: Gaussian sigmas, camera noise, raw ISO levels
# in linear raw and after the fixed rendering
SCORE_PREFIXES = {
    "val/psnr_": "",
    "val/camera_psnr": "camera",
    "val/raw_psnr_iso": "ISO ",
    "val/raw_rendered_psnr_iso": "rendered ISO ",
}
RAW_COLUMNS = ("ISO ", "rendered ISO ")  # raw columns by label, in their order after the others


def _column(key: str) -> str | None:
    for prefix, label in SCORE_PREFIXES.items():
        if key.startswith(prefix):
            return label + key.removeprefix(prefix)
    return None


def read_validation(path: Path) -> list[dict[str, float]]:
    """Rows of ``path`` that hold validation scores: ``{"step": ..., "15": psnr, "25": psnr, ...}`` (also
    ``"camera"`` for the blind runs' camera-noise score and ``"ISO 1600"`` ... for the raw runs')."""
    rows = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            columns = {key: _column(key) for key in row if row[key]}
            scores = {column: float(row[key]) for key, column in columns.items() if column}
            if scores:
                rows.append({"step": float(row["step"]) + 1, **scores})
    return rows


def load_runs(folder: Path, runs: dict[str, str]) -> dict[str, tuple[str, list[dict[str, float]]]]:
    """Each run's description and validation rows, read once (no rows: a run that never validated)."""
    return {name: (description, read_validation(folder / name)) for name, description in runs.items()}


def _order(column: str) -> tuple[int, float]:
    """Gaussian sigmas first by value, then camera noise, then raw ISO levels by value, linear then rendered."""
    for rank, label in enumerate(RAW_COLUMNS, start=2):
        if column.startswith(label):
            return (rank, float(column.removeprefix(label)))
    return (1, 0.0) if column == "camera" else (0, float(column))


def _heading(column: str) -> str:
    return column if column.startswith(RAW_COLUMNS) or column == "camera" else f"PSNR {column}"


def table(runs: dict[str, tuple[str, list[dict[str, float]]]]) -> str:
    """Markdown: one line per run (from :func:`load_runs`) with its last validation PSNR in each column; runs
    that validate on other columns (raw ISO levels) get a table of their own, runs that never validated a list."""
    groups: dict[tuple[str, ...], list[str]] = {}
    unvalidated = []
    for name, (description, rows) in runs.items():
        if not rows:
            unvalidated.append(f"- `{name}`: {description}")
            continue
        columns = tuple(sorted((key for key in rows[-1] if key != "step"), key=_order))
        line = " | ".join(f"{rows[-1][column]:.2f}" for column in columns)
        groups.setdefault(columns, []).append(f"| `{name}` | {description} | {int(rows[-1]['step'])} | {line} |")
    blocks = []
    for columns, lines in groups.items():
        header = f"| run | what | steps | {' | '.join(_heading(column) for column in columns)} |"
        blocks.append("\n".join([header, "|---|---|---:|" + "---:|" * len(columns), *lines]))
    if unvalidated:
        blocks.append("Runs that never validated:\n\n" + "\n".join(unvalidated))
    return "\n\n".join(blocks)


def plot(runs: dict[str, tuple[str, list[dict[str, float]]]], output: Path) -> None:
    """PSNR at ``PLOT_SIGMA`` against the step, one line per run (from :func:`load_runs`), named by its file."""
    figure, axes = pyplot().subplots(figsize=(10, 4.5))
    for name, (_, all_rows) in runs.items():  # labelled by file: the table beside the plot describes each run
        rows = [row for row in all_rows if PLOT_SIGMA in row]
        if not rows:  # a raw run (ISO levels) or one that never validated
            continue
        label = Path(name).stem
        axes.plot([row["step"] for row in rows], [row[PLOT_SIGMA] for row in rows], marker=".", label=label)
    axes.set_xlabel("step of the run")
    axes.set_ylabel(f"validation PSNR at sigma {PLOT_SIGMA} (dB)")
    axes.grid(alpha=0.3)
    columns = 1 + len(runs) // 20  # a long history in several legend columns, none cut off below the plot
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), ncol=columns)
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
