"""Validation curves of ablation runs: where each design is heading, not only where its budget stopped it.

A run that validates during training (its plan sets ``trainer.val_check_interval`` to a step count) records the
protocol's PSNR at each validation as ``curve``: ``[[step, psnr_15, psnr_25, psnr_50], ...]``. The report then
gives each design's mean curve over its seeds, its gain over the last quarter of the run (near zero: the run has
ended; still rising: the budget, not the design, set its place) and a figure of the curves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.trainer.states import TrainerFn

from denoise.utils.plots import pyplot, save_figure

SIGMAS = (15, 25, 50)  # the protocol's noise levels (/255) every ablation run is scored at


class ValidationCurve(L.Callback):
    """Collect ``[step, psnr_15, psnr_25, psnr_50]`` (dB) after every validation inside ``fit``."""

    def __init__(self) -> None:
        self.points: list[list[float]] = []

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING:  # not the sanity pass, validate()
            return
        metrics = trainer.callback_metrics
        self.points.append([trainer.global_step, *(float(metrics[f"val/psnr_{s}"]) for s in SIGMAS)])


def mean_curve(records: list[dict[str, Any]]) -> list[tuple[int, float]]:
    """(step, PSNR averaged over the sigmas and over the records) at the steps every record validated at."""
    if not records or any(not record.get("curve") for record in records):
        return []
    shared = set.intersection(*({int(point[0]) for point in record["curve"]} for record in records))
    means = {step: 0.0 for step in shared}
    for record in records:
        for step, *psnrs in record["curve"]:
            if int(step) in shared:
                means[int(step)] += sum(psnrs) / len(psnrs) / len(records)
    return sorted(means.items())


def design_curves(designs: dict[str, list[tuple[int, dict]]]) -> dict[str, list[tuple[int, float]]]:
    """Design -> its mean curve over its runs (:func:`mean_curve`), for the designs with two points or more."""
    curves = {design: mean_curve([record for _, record in runs]) for design, runs in designs.items()}
    return {design: curve for design, curve in curves.items() if len(curve) > 1}


def late_gain(curve: list[tuple[int, float]]) -> float | None:
    """PSNR gained over the last quarter of a curve's steps (dB): the last point minus the point nearest to
    three quarters of the way; None for a curve of fewer than two points."""
    if len(curve) < 2:
        return None
    last_step, last = curve[-1]
    step, value = min(curve[:-1], key=lambda point: abs(point[0] - 0.75 * last_step))
    return last - value


def curve_table(designs: dict[str, list[tuple[int, dict]]]) -> list[str]:
    """Markdown lines: each design's mean validation curve over its seeds, best last point first, with its
    last-quarter gain; empty when no design recorded a curve."""
    curves = design_curves(designs)
    if not curves:
        return []
    steps = sorted(set.intersection(*({step for step, _ in curve} for curve in curves.values())))
    shown = steps[:: max(1, len(steps) // 6)][:6] + ([steps[-1]] if len(steps) > 6 else [])
    shown = sorted(set(shown))
    lines = [
        "",
        "Validation during training: PSNR averaged over the sigmas and over each design's seeds, at the steps "
        "every run validated at. Last-quarter gain: the last point minus the point three quarters of the way "
        "through (near zero: the run had levelled off).",
        "",
        "| design | " + " | ".join(f"step {step}" for step in shown) + " | last-quarter gain |",
        "|---|" + "---:|" * (len(shown) + 1),
    ]
    for design, curve in sorted(curves.items(), key=lambda item: -item[1][-1][1]):
        values = dict(curve)
        cells = " | ".join(f"{values[step]:.2f}" if step in values else "-" for step in shown)
        lines.append(f"| {design} | {cells} | {late_gain(curve):+.2f} |")
    return lines


def plot_curves(designs: dict[str, list[tuple[int, dict]]], scored_on: str, path: Path) -> bool:
    """Each design's mean curve, and every run's own curve faintly in the same colour. False (nothing drawn)
    when no design has a curve of two points or more."""
    curves = design_curves(designs)
    if not curves:
        return False
    figure, axes = pyplot().subplots(figsize=(8.5, 5))
    for index, (design, curve) in enumerate(sorted(curves.items(), key=lambda item: -item[1][-1][1])):
        colour = f"C{index % 10}"
        for _, record in designs[design]:
            own = mean_curve([record])
            axes.plot([s for s, _ in own], [v for _, v in own], color=colour, alpha=0.3, linewidth=0.8)
        axes.plot([s for s, _ in curve], [v for _, v in curve], color=colour, linewidth=2, label=design)
    runs = [mean_curve([record]) for design in curves for _, record in designs[design]]
    settled = [value for curve in runs for step, value in curve if step >= curve[-1][0] / 4]
    axes.set_ylim(min(settled) - 0.3, max(settled) + 0.2)  # the first quarter's climb would flatten the rest
    axes.set_xlabel(f"training step\nscored on {scored_on}")
    axes.set_ylabel("PSNR, mean of sigma 15, 25, 50 (dB)")
    axes.set_title("Validation during training: each design's mean over seeds (thin: single runs)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    save_figure(figure, path)
    return True
