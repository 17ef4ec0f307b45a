"""``python -m denoise_lab.leaderboard.real_by_camera BEFORE.csv AFTER.csv``: one method's change between two runs
of the real-noise table, camera by camera.

PolyU100's file names start with the camera (``Canon5D2_...``, ``NikonD800_...``), so a change that helps on
every camera is not one camera's quirk. Reads the per-pair CSVs that ``python -m denoise_lab.leaderboard.real``
writes (its ``--out`` with ``.csv``) and prints, per camera, the pairs, the mean PSNR change of the rows whose
method starts with ``--method`` (the default: the blind default path) and how many pairs it raised.
"""

from __future__ import annotations

import argparse
import csv
import shlex
import sys
from pathlib import Path

from denoise_lab.tables import publish


def psnr_by_pair(path: Path, method: str) -> dict[str, float]:
    """PSNR per pair of the rows whose method starts with ``method``."""
    with path.open(newline="") as handle:
        return {row["pair"]: float(row["psnr"]) for row in csv.DictReader(handle) if row["method"].startswith(method)}


def by_camera(before: dict[str, float], after: dict[str, float]) -> list[tuple[str, int, float, int]]:
    """(camera, pairs, mean change in dB, pairs raised) per camera, the camera being the name up to its first
    ``_``, then the row ``all``. Raises ValueError when the two runs scored other pairs."""
    if set(before) != set(after) or not before:
        raise ValueError(f"the two runs scored other pairs ({len(before)} and {len(after)}): compare runs of one set")
    groups: dict[str, list[float]] = {}
    for pair in sorted(before):
        groups.setdefault(pair.split("_")[0], []).append(after[pair] - before[pair])
    groups["all"] = [change for changes in list(groups.values()) for change in changes]
    return [
        (camera, len(changes), sum(changes) / len(changes), sum(change > 0 for change in changes))
        for camera, changes in groups.items()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m denoise_lab.leaderboard.real_by_camera", description=__doc__.splitlines()[0]
    )
    parser.add_argument("before", type=Path, help="the earlier run's CSV")
    parser.add_argument("after", type=Path, help="the later run's CSV")
    parser.add_argument("--method", default="default", help="the rows compared: the method name's start")
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    args = parser.parse_args(argv)
    try:
        rows = by_camera(psnr_by_pair(args.before, args.method), psnr_by_pair(args.after, args.method))
    except (OSError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    command = "python -m denoise_lab.leaderboard.real_by_camera " + shlex.join(sys.argv[1:] if argv is None else argv)
    lines = [
        f"Made by `{command}`: the PSNR change of the rows `{args.method}...` from the first run to the second, "
        "per camera (the file name's first part).",
        "",
        "| camera | pairs | PSNR change (dB) | pairs raised |",
        "|---|---:|---:|---:|",
        *(f"| {camera} | {count} | {change:+.2f} | {raised} of {count} |" for camera, count, change, raised in rows),
    ]
    if args.out:
        publish(args.out, lines)
    else:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
