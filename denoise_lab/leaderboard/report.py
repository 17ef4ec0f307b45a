"""Leaderboard outputs: the per-image CSV, the Markdown tables (best in bold) and the plots."""

from __future__ import annotations

import csv
import io
from collections import defaultdict

import matplotlib.ticker
import numpy as np

from denoise.utils.plots import pyplot, save_figure

CSV_FIELDS = ["method", "dataset", "image", "sigma", "seed", "psnr", "ssim", "seconds", "megapixels", "machine"]
UNRECORDED = "a machine not recorded"  # rows cached before rows named the machine that timed them
ELSEWHERE = "†"  # marks a time taken on another machine than the run's
PROTOCOL = (
    "Protocol: clean uint8 image (RGB for colour sets, one channel for grey sets) -> clean = img/255 (float32) -> "
    "noisy = clean + sigma/255 * N(0, 1), one fixed seed per image (CRC-32 of the file stem), not clipped, not "
    "quantised -> method with the true sigma -> round(clip(out, 0, 1) * 255) as uint8 -> PSNR over all pixels and "
    "channels jointly (one MSE), no border crop, data range 255; SSIM: scikit-image structural_similarity "
    "(data_range=255, channel_axis=-1 for colour). Mean over the images of a set. Time: wall seconds per megapixel "
    "of the method call alone (model loaded)."
)


def to_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in sorted(rows, key=lambda r: (r["dataset"], r["method"], r["sigma"], r["image"])):
        writer.writerow(
            {**row, "psnr": f"{row['psnr']:.4f}", "ssim": f"{row['ssim']:.5f}", "seconds": f"{row['seconds']:.4f}"}
        )
    return buffer.getvalue()


def machine_of(row: dict) -> str:
    """The machine that timed a result row (``UNRECORDED`` for rows from before rows named it)."""
    return row.get("machine") or UNRECORDED


def summarise(rows: list[dict]) -> dict:
    """{dataset: {method: {"psnr": {sigma: mean}, "ssim": {...}, "s_per_mp": x, "parameters": n, "images": k,
    "machines": [the machines that timed its rows]}}}"""
    grouped: dict = defaultdict(lambda: defaultdict(list))
    for row in rows:
        grouped[row["dataset"]][row["method"]].append(row)
    summary: dict = {}
    for dataset, by_method in grouped.items():
        summary[dataset] = {}
        for method, method_rows in by_method.items():
            sigmas = sorted({row["sigma"] for row in method_rows})
            summary[dataset][method] = {
                "psnr": {s: float(np.mean([r["psnr"] for r in method_rows if r["sigma"] == s])) for s in sigmas},
                "ssim": {s: float(np.mean([r["ssim"] for r in method_rows if r["sigma"] == s])) for s in sigmas},
                "s_per_mp": sum(r["seconds"] for r in method_rows) / sum(r["megapixels"] for r in method_rows),
                "parameters": method_rows[0].get("parameters"),
                "images": len({r["image"] for r in method_rows}),
                "machines": sorted({machine_of(r) for r in method_rows}),
            }
    return summary


def timed_elsewhere(stats: dict, machine: str) -> list[str]:
    """The machines other than ``machine`` that timed some of a method's rows (a :func:`summarise` entry)."""
    return [name for name in stats["machines"] if name != machine]


def to_markdown(summary: dict, header: list[str], skipped: list[str], set_sizes: dict[str, int], machine: str) -> str:
    """Per set, methods x sigma (best in bold); a time taken on another machine than ``machine`` is marked."""
    lines = [*header, "", PROTOCOL, ""]
    for dataset, methods in summary.items():
        sigmas = sorted({s for stats in methods.values() for s in stats["psnr"]})
        images = set_sizes[dataset]
        lines += [f"### {dataset} ({images} images): PSNR (dB) / SSIM", ""]
        lines.append("| method | " + " | ".join(f"sigma {s:g}" for s in sigmas) + " | s / MP | parameters |")
        lines.append("|---|" + "---|" * len(sigmas) + "---:|---:|")
        ranked = [name for name in methods if name != "noisy" and methods[name]["images"] == images]
        best = {s: max((methods[m]["psnr"].get(s, -1), m) for m in ranked)[1] if ranked else None for s in sigmas}
        # complete rows first, by mean PSNR; a row with missing cells cannot be compared on the same footing
        order = sorted(methods, key=lambda m: (len(sigmas) - len(methods[m]["psnr"]),
                                               -np.mean(list(methods[m]["psnr"].values()))))  # fmt: skip
        elsewhere = sorted({name for m in order if m != "noisy" for name in timed_elsewhere(methods[m], machine)})
        for method in order:
            stats = methods[method]
            cells = []
            for s in sigmas:
                if s not in stats["psnr"]:
                    cells.append("-")
                    continue
                cell = f"{stats['psnr'][s]:.2f} / {stats['ssim'][s]:.4f}"
                cells.append(f"**{cell}**" if best[s] == method else cell)
            parameters = f"{stats['parameters'] / 1e6:.2f} M" if stats["parameters"] else "-"
            label = method if stats["images"] == images else f"{method} (only {stats['images']}/{images} images)"
            mark = f" {ELSEWHERE}" if method != "noisy" and timed_elsewhere(stats, machine) else ""
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {stats['s_per_mp']:.3f}{mark} | {parameters} |")
        lines.append("")
        if elsewhere:
            lines += [f"{ELSEWHERE} Timed, in part or whole, on {' and on '.join(elsewhere)}: not comparable with the "
                      "other times; `--retime` times it on this machine.", ""]  # fmt: skip
    if skipped:
        lines += ["Skipped: " + "; ".join(sorted(set(skipped))) + ".", ""]
    return "\n".join(lines)


def plot(summary: dict, path, machine: str) -> None:
    """Per data set: PSNR against sigma per method, and PSNR at sigma 25 against seconds per MP (log; a time taken
    on another machine than ``machine`` is marked as in the tables)."""
    plt = pyplot()
    figure, axes = plt.subplots(len(summary), 2, figsize=(11, 4 * len(summary)), squeeze=False)
    names = sorted({method for methods in summary.values() for method in methods})
    colours = {name: plt.get_cmap("tab10")(index % 10) for index, name in enumerate(names)}  # same in every panel
    for row_axes, (dataset, methods) in zip(axes, summary.items(), strict=True):
        by_sigma, by_speed = row_axes
        for method, stats in methods.items():
            sigmas = sorted(stats["psnr"])
            by_sigma.plot(sigmas, [stats["psnr"][s] for s in sigmas], marker="o", label=method, color=colours[method])
            if 25 in stats["psnr"] and method != "noisy":
                by_speed.scatter(stats["s_per_mp"], stats["psnr"][25], s=40, color=colours[method])
                by_speed.annotate(
                    method + (f" {ELSEWHERE}" if timed_elsewhere(stats, machine) else ""),
                    (stats["s_per_mp"], stats["psnr"][25]),
                    textcoords="offset points",
                    xytext=(5, 3),
                    fontsize=8,
                )
        by_sigma.set(title=f"{dataset}: PSNR by noise level", xlabel="sigma (/255)", ylabel="PSNR (dB)")
        by_sigma.grid(alpha=0.3)
        by_sigma.legend(fontsize=8)
        by_speed.set(
            title=f"{dataset}: quality vs CPU time (sigma 25)",
            xlabel="seconds per megapixel",
            ylabel="PSNR (dB)",
            xscale="log",
        )
        by_speed.grid(alpha=0.3, which="both")
        by_speed.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        by_speed.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        by_speed.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    save_figure(figure, path, dpi=110)
