"""``python -m denoise_lab.ablation``: compare designs at equal CPU training time.

The ablation is described by a YAML file (``configs/ablation.yaml``): the base training configs, settings
fixed for every variant, a CPU-time budget and the variants, each a set of config overrides. Every variant is
trained through the same LightningCLI as ``make train`` until the process has used the budget of CPU time,
then scored by the validation loop (the evaluation protocol). A plan with ``cpu_seconds: null`` trains every
variant for the trainer's ``max_steps`` instead (equal steps, so a learning-rate schedule can run to its end);
a plan that validates during training records each run's validation curve (``denoise_lab.ablation_curves``).
One JSON line per variant goes to ``results/ablation.jsonl``, so a stopped ablation resumes with the variants
still missing; the summary goes to ``results/ablation.md`` and ``results/ablation.png`` (and
``results/ablation_curves.png`` when the runs recorded curves). Each record carries a fingerprint of what decided its
training (its resolved training config, budget and threads): when the plan or a base config changes a
variant's settings, its records made before no longer count and it trains again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
import yaml
from lightning.pytorch.cli import LightningCLI

from denoise.metrics import DATA_RANGE
from denoise.train import build_cli
from denoise.utils.files import atomic_write_text
from denoise.utils.machine import machine_description
from denoise.utils.plots import pyplot, save_figure
from denoise_lab.ablation_curves import SIGMAS, ValidationCurve, curve_table, plot_curves
from denoise_lab.profile import count_parameters, gmacs_per_megapixel

BARELY_TRAINED_DB = 1.0  # a variant this little above its noisy input (mean over sigmas) diverged or stalled


def noisy_psnr(sigma: float) -> float:
    """PSNR (dB) of Gaussian noise of std ``sigma`` (/255) before clipping; the scored noisy input, clipped to
    [0, 1] and rounded, sits a little higher (clipping removes some of the error)."""
    return 20 * math.log10(DATA_RANGE / sigma)


def barely_trained(record: dict[str, Any]) -> bool:
    """True when the variant's PSNR is on average less than ``BARELY_TRAINED_DB`` above the noisy input's (over
    the sigmas): its short run diverged or did not get going, so its rank says nothing about its design."""
    gain = sum(record[f"psnr_{s}"] - noisy_psnr(s) for s in SIGMAS) / len(SIGMAS)
    return gain < BARELY_TRAINED_DB


class CPUTimeBudget(L.Callback):
    """Stop training once the process has used ``seconds`` of CPU time (all threads) since training began."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = 0.0
        self.used = 0.0

    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.start = time.process_time()

    def on_train_batch_end(self, trainer: L.Trainer, module: L.LightningModule, *args: Any) -> None:
        self.used = time.process_time() - self.start
        if self.used >= self.seconds:
            trainer.should_stop = True


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``extra``, nested mappings merged key by key (neither input changes)."""
    out = dict(base)
    for key, value in extra.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _merged(out[key], value) if both else value
    return out


def first_seed(plan: dict[str, Any]) -> int:
    """The seed every variant trains from unless it sets its own (the fixed settings' ``seed_everything``)."""
    return (plan.get("fixed") or {}).get("seed_everything", 0)


def seed_name(design: str, seed: int) -> str:
    """The variant name of ``design`` trained from another ``seed``."""
    return f"{design}_seed_{seed}"


def expand_repeats(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan with its ``repeat`` section spelt out as variants.

    ``repeat: {seeds: [1, 2], variants: [baseline]}`` adds ``baseline_seed_1`` and ``baseline_seed_2``: the
    variant's overrides plus ``seed_everything`` and ``data.seed`` set to the seed (network initialisation,
    patches and noise all change). The variant itself is the run from the fixed settings' seed. Raises
    ValueError for a repeated variant the plan lacks or a generated name it already uses.
    """
    repeat = plan.get("repeat") or {}
    variants = dict(plan["variants"])
    for design in repeat.get("variants", []):
        if design not in plan["variants"]:
            raise ValueError(f"repeat: no variant {design!r} to repeat; the plan has {', '.join(plan['variants'])}")
        for seed in repeat.get("seeds", []):
            name = seed_name(design, seed)
            if name in variants:
                raise ValueError(f"repeat: {name} is also a variant of its own; remove one of the two")
            variants[name] = _merged(plan["variants"][design] or {}, {"seed_everything": seed, "data": {"seed": seed}})
    return {**plan, "variants": variants}


def load_plan(path: str | Path) -> dict[str, Any]:
    """Read and check an ablation YAML (see ``configs/ablation.yaml`` for the layout), repeats spelt out."""
    plan = yaml.safe_load(Path(path).read_text())
    missing = {"base", "cpu_seconds", "variants"} - set(plan or {})
    if missing:
        raise ValueError(f"{path}: missing key(s) {', '.join(sorted(missing))}; see configs/ablation.yaml")
    if plan["cpu_seconds"] is None and int(((plan.get("fixed") or {}).get("trainer") or {}).get("max_steps", -1)) < 1:
        raise ValueError(f"{path}: cpu_seconds is null, so fixed.trainer.max_steps must bound every run")
    for config in plan["base"]:
        if not Path(config).is_file():
            raise FileNotFoundError(f"{path}: base config {config} not found (run from the repository root)")
    return expand_repeats(plan)


def _cli_args(plan: dict[str, Any], overrides: dict[str, Any]) -> list[str]:
    """The training CLI arguments of a variant: the base configs, then the fixed settings, then its overrides."""
    configs = [*plan["base"], yaml.safe_dump(plan.get("fixed") or {}), yaml.safe_dump(overrides or {})]
    return [item for config in configs for item in ("--config", config)]


def _fingerprint(plan: dict[str, Any], cli: LightningCLI) -> str:
    """Hash of the CLI's resolved training config (every setting, defaults included) plus the budget."""
    config = {key: value for key, value in cli.config.as_dict().items() if key != "config"}  # not the file names
    recipe = {"config": config, "cpu_seconds": plan["cpu_seconds"], "threads": plan.get("threads")}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True, default=str).encode()).hexdigest()[:16]


def fingerprint(plan: dict[str, Any], name: str) -> str:
    """A short hash of what decides how variant ``name`` trains: its fully resolved training config (base configs,
    fixed settings and its overrides merged, class defaults filled in), the CPU budget and the threads. Edits
    that change no setting (a comment, a value the fixed settings override) leave it as it was."""
    return _fingerprint(plan, build_cli(_cli_args(plan, plan["variants"][name])))


def current_results(plan: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Variant name -> its latest record made under this plan (same fingerprint), for the plan's variants."""
    recorded = {record["variant"] for record in records} & set(plan["variants"])
    stamps = {name: fingerprint(plan, name) for name in recorded}  # each builds a CLI: only where records exist
    return {
        record["variant"]: record
        for record in records
        if record["variant"] in stamps and record.get("fingerprint") == stamps[record["variant"]]
    }


def train_variant(plan: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Train one variant within the plan's CPU budget and score it; returns its record (without its name)."""
    torch.set_num_threads(int(plan.get("threads", torch.get_num_threads())))
    cli = build_cli(_cli_args(plan, overrides))
    stamp = _fingerprint(plan, cli)
    budget = CPUTimeBudget(math.inf if plan["cpu_seconds"] is None else float(plan["cpu_seconds"]))
    curve = ValidationCurve()
    cli.trainer.callbacks += [budget, curve]
    start = time.perf_counter()
    cli.trainer.fit(cli.model, cli.datamodule)
    wall = time.perf_counter() - start
    metrics = cli.trainer.validate(cli.model, cli.datamodule, verbose=False)[0]
    data, net = cli.datamodule.hparams, cli.model.net
    steps = cli.trainer.global_step
    return {
        "fingerprint": stamp,
        "config": overrides,
        "model": net.model_config,
        "loss": cli.model.hparams.loss,
        "patch_size": data.patch_size,
        "batch_size": data.batch_size,
        "parameters": count_parameters(net),
        "gmacs_per_mp": gmacs_per_megapixel(net, net.channels),
        "steps": steps,
        "train_megapixels": steps * data.batch_size * data.patch_size**2 / 1e6,
        "cpu_seconds": budget.used,
        "wall_seconds": wall,
        **{f"psnr_{s}": metrics[f"val/psnr_{s}"] for s in SIGMAS},
        **{f"ssim_{s}": metrics[f"val/ssim_{s}"] for s in SIGMAS},
        "curve": curve.points,
    }


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every record written so far, oldest first (a torn last line is ignored)."""
    records = []
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


def mean_psnr(record: dict[str, Any]) -> float:
    """A record's PSNR averaged over the sigmas (dB)."""
    return sum(record[f"psnr_{s}"] for s in SIGMAS) / len(SIGMAS)


def design_runs(plan: dict[str, Any], results: dict[str, dict[str, Any]]) -> dict[str, list[tuple[int, dict]]]:
    """Each design (a variant that is not a ``repeat`` copy) -> its runs with results as (seed, record), the run
    from the fixed settings' seed first, then the repeats in the plan's seed order."""
    repeat = plan.get("repeat") or {}
    seeds = list(repeat.get("seeds", []))
    copies = {seed_name(design, seed) for design in repeat.get("variants", []) for seed in seeds}
    first = first_seed(plan)
    runs = {}
    for design in (name for name in plan["variants"] if name not in copies):
        repeated = design in repeat.get("variants", [])
        names = [(first, design), *((seed, seed_name(design, seed)) for seed in seeds if repeated)]
        runs[design] = [(seed, results[name]) for seed, name in names if name in results]
    return {design: found for design, found in runs.items() if found}


def design_mean(runs: list[tuple[int, dict]]) -> float:
    """Mean PSNR of a design over its runs that trained; over all its runs when none did."""
    trained = [mean_psnr(record) for _, record in runs if not barely_trained(record)]
    return sum(trained) / len(trained) if trained else sum(mean_psnr(r) for _, r in runs) / len(runs)


def _describe(record: dict[str, Any]) -> str:
    model = record["model"]
    widths = "-".join(str(width) for width in model["widths"])
    return f"{model['name']}, {model['encoding']}, {widths}"


def _spread_table(plan: dict[str, Any], designs: dict[str, list[tuple[int, dict]]]) -> list[str]:
    """The repeated designs over their seeds, and against the baseline run of the same seed."""
    repeated = [design for design in (plan.get("repeat") or {}).get("variants", []) if design in designs]
    if not repeated:
        return []
    first = first_seed(plan)
    seeds = ", ".join(str(seed) for seed in [first, *plan["repeat"]["seeds"]])
    baseline = {seed: record for seed, record in designs.get("baseline", []) if not barely_trained(record)}
    lines = [
        "",
        f"Run to run: these designs were trained from seeds {seeds} (network initialisation, patches and noise "
        "all change). A run flagged (!) failed and is left out of the mean, min and max; the last columns compare "
        "each run with the baseline run from the same seed, where both trained.",
        "",
        "| design | runs trained | mean | min | max | vs baseline, same seed: mean (min to max) | better in |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for design in sorted(repeated, key=lambda name: -design_mean(designs[name])):
        runs = designs[design]
        trained = {seed: mean_psnr(record) for seed, record in runs if not barely_trained(record)}
        values = list(trained.values())
        low, high = (f"{min(values):.2f}", f"{max(values):.2f}") if values else ("-", "-")
        paired = [value - mean_psnr(baseline[seed]) for seed, value in trained.items() if seed in baseline]
        versus, better = "-", "-"
        if paired and design != "baseline":
            versus = f"{sum(paired) / len(paired):+.2f} ({min(paired):+.2f} to {max(paired):+.2f})"
            better = f"{sum(d > 0 for d in paired)} of {len(paired)}"
        lines.append(
            f"| {design} | {len(values)} of {len(runs)} | {design_mean(runs):.2f} | {low} | {high} | {versus} "
            f"| {better} |"
        )
    return lines


def scored_on(plan: dict[str, Any]) -> str:
    """What the plan's variants are scored on (its ``scored_on``; by default the held-out CBSD432 images)."""
    return str(plan.get("scored_on", "CBSD432 images held out of its training"))


def budget(plan: dict[str, Any]) -> str:
    """Each variant's training budget in words: "N steps" or "S CPU seconds"."""
    if plan["cpu_seconds"] is None:
        return f"{plan['fixed']['trainer']['max_steps']} steps"
    return f"{plan['cpu_seconds']:g} CPU seconds"


def budget_text(plan: dict[str, Any]) -> str:
    """How long each variant trained, under which learning rate and on what, as the report's opening says it."""
    threads, seed, scored = plan.get("threads", "?"), first_seed(plan), scored_on(plan)
    if plan["cpu_seconds"] is None:
        return (
            f"Each variant trained for {budget(plan)} ({threads} threads) from seed {seed} (or the seed its name "
            f"gives), its learning rate following the model config's schedule to its end, then was scored on "
            f"{scored}, under the evaluation protocol (PSNR in dB). Where the runs validated during training, the "
            "curves at the end say whether they had levelled off."
        )
    return (
        f"Each variant trained for {budget(plan)} ({threads} threads, data loading included) from seed {seed} (or "
        f"the seed its name gives) with a constant learning rate after warm-up, then was scored on {scored}, "
        "under the evaluation protocol (PSNR in dB). Short runs favour designs that learn fast; the ranking says "
        "which design to train longer, not where each would end."
    )


def render_markdown(plan: dict[str, Any], results: dict[str, dict[str, Any]], plan_path: str) -> str:
    """Every run, best mean PSNR first, against the baseline design's mean; then the designs over seeds, then
    their validation curves where the runs recorded them."""
    records = [results[name] for name in plan["variants"] if name in results]
    designs = design_runs(plan, results)
    reference = design_mean(designs["baseline"]) if "baseline" in designs else None
    equal = "steps" if plan["cpu_seconds"] is None else "CPU training time"
    lines = [
        f"Design ablation at equal {equal}: `python -m denoise_lab.ablation --plan {plan_path}`.",
        f"{budget_text(plan)} vs baseline: against the mean of the baseline's runs that trained.",
        f"Machine: {machine_description()}.",
        "",
        "| variant | model, encoding, widths | loss | patch x batch | params | GMACs/MP | steps | MP seen "
        "| PSNR 15 | PSNR 25 | PSNR 50 | mean | vs baseline |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for record in sorted(records, key=lambda r: -mean_psnr(r)):
        delta = f"{mean_psnr(record) - reference:+.2f}" if reference is not None else "-"
        psnrs = " | ".join(f"{record[f'psnr_{s}']:.2f}" for s in SIGMAS)
        flag = " (!)" if barely_trained(record) else ""
        lines.append(
            f"| {record['variant']}{flag} | {_describe(record)} | {record['loss']} | "
            f"{record['patch_size']} x {record['batch_size']} | {record['parameters'] / 1e6:.2f} M | "
            f"{record['gmacs_per_mp']:.1f} | {record['steps']} | {record['train_megapixels']:.0f} | {psnrs} | "
            f"{mean_psnr(record):.2f} | {delta} |"
        )
    if any(barely_trained(record) for record in records):
        noisy = " / ".join(f"{noisy_psnr(s):.2f}" for s in SIGMAS)
        lines += [
            "",
            f"(!) Less than {BARELY_TRAINED_DB:g} dB above the noisy input on average (the noisy input scores {noisy} "
            f"dB at sigma {' / '.join(str(s) for s in SIGMAS)} before clipping, a little more as scored): the run "
            "diverged or did not get going in its budget, so its place in the ranking says nothing about the design.",
        ]
    lines += _spread_table(plan, designs)
    lines += curve_table(designs)
    copied = [record for record in records if record.get("copied_from")]
    if copied:
        lines += [
            "",
            "Not trained by this plan's runs but copied, with the same training config (fingerprint): "
            + "; ".join(f"{record['variant']} from {record['copied_from']}" for record in copied)
            + ".",
        ]
    missing = [name for name in plan["variants"] if name not in results]
    if missing:
        lines += ["", f"Not yet run under this plan: {', '.join(missing)}."]
    return "\n".join(lines) + "\n"


def plot(plan: dict[str, Any], results: dict[str, dict[str, Any]], path: Path) -> bool:
    """Each design's mean PSNR minus the baseline design's, as sorted horizontal bars labelled with GMACs/MP.

    A design trained from several seeds shows the mean of its runs that trained as the bar and every run as a
    dot (hollow: a run that failed); the band is the spread of the baseline's runs. Bars and dots are clipped at
    -3 dB (a design far below, e.g. one that diverged, shows its value as text). Returns False (and draws
    nothing) while the baseline has no result.
    """
    designs = design_runs(plan, results)
    if "baseline" not in designs:
        return False
    reference = design_mean(designs["baseline"])
    names = sorted(designs, key=lambda name: design_mean(designs[name]))
    deltas = [design_mean(designs[name]) - reference for name in names]
    floor = -3.0
    figure, axes = pyplot().subplots(figsize=(8.5, 0.35 * len(names) + 1.4))
    spread = [mean_psnr(r) - reference for _, r in designs["baseline"] if not barely_trained(r)]
    if len(spread) > 1:
        axes.axvspan(min(spread), max(spread), color="tab:grey", alpha=0.15, label="baseline runs' range")
    colours = ["tab:green" if delta > 0 else "tab:grey" if name == "baseline" else "tab:red"
               for name, delta in zip(names, deltas, strict=True)]  # fmt: skip
    axes.barh(names, [max(delta, floor) for delta in deltas], color=colours, alpha=0.8)
    right = 0.0
    for row, (name, delta) in enumerate(zip(names, deltas, strict=True)):
        runs = designs[name]
        ends = [max(delta, floor)]
        if len(runs) > 1:
            for _, record in runs:
                failed = barely_trained(record)
                ends.append(max(mean_psnr(record) - reference, floor))
                axes.plot(ends[-1], row, "o", markersize=4, color="black", fillstyle="none" if failed else "full",
                          label=("run that failed (!), at the clip" if failed else "one run"))  # fmt: skip
        trained = sum(not barely_trained(record) for _, record in runs)
        count = f" ({trained} of {len(runs)} runs)" if len(runs) > 1 else " (!)" if not trained else ""
        text = f"{delta:+.2f} dB{count}, {runs[0][1]['gmacs_per_mp']:.0f} GMACs/MP"
        axes.text(max(*ends, 0) + 0.1, row, text, va="center", fontsize=8)
        right = max(right, *ends)
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set_xlim(floor - 0.5, right + 4.0)
    axes.set_xlabel(f"mean PSNR (sigma 15, 25, 50) minus the baseline's, dB\nscored on {scored_on(plan)}")
    axes.set_title(f"Ablation: {budget(plan)} of training per run")
    axes.grid(axis="x", alpha=0.3)
    handles, labels = axes.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))  # one legend entry per kind of mark
    if unique:
        axes.legend(unique.values(), unique.keys(), loc="lower right", fontsize=8)
    save_figure(figure, path)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.ablation", description=__doc__.split("\n")[0])
    parser.add_argument("--plan", default="configs/ablation.yaml", help="the ablation YAML")
    parser.add_argument("--out", default="results/ablation", help="output stem: STEM.jsonl, STEM.md, STEM.png")
    parser.add_argument("--only", nargs="+", metavar="VARIANT", help="run just these variants")
    parser.add_argument("--rerun", action="store_true", help="train variants again even if they have results")
    args = parser.parse_args(argv)
    try:
        plan = load_plan(args.plan)
    except (OSError, ValueError, yaml.YAMLError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    unknown = sorted(set(args.only or []) - set(plan["variants"]))
    if unknown:
        print(
            f"error: unknown variant(s) {', '.join(unknown)}; the plan has {', '.join(plan['variants'])}",
            file=sys.stderr,
        )
        return 2
    stem = Path(args.out)
    jsonl = stem.with_suffix(".jsonl")
    results = current_results(plan, read_records(jsonl))
    todo = [name for name in (args.only or plan["variants"]) if args.rerun or name not in results]
    for index, name in enumerate(todo, 1):
        print(f"[{index}/{len(todo)}] {name}: training for {budget(plan)}", flush=True)
        record = {"variant": name, **train_variant(plan, plan["variants"][name] or {})}
        results[name] = record
        jsonl.parent.mkdir(parents=True, exist_ok=True)
        with jsonl.open("a") as stream:
            stream.write(json.dumps(record) + "\n")
        print(
            f"  {record['steps']} steps, PSNR 15/25/50: " + " / ".join(f"{record[f'psnr_{s}']:.2f}" for s in SIGMAS),
            flush=True,
        )
    atomic_write_text(stem.with_suffix(".md"), render_markdown(plan, results, args.plan))
    bars, curves = stem.with_suffix(".png"), stem.with_name(stem.name + "_curves.png")
    drawn = [bars] if plot(plan, results, bars) else []
    drawn += [curves] if plot_curves(design_runs(plan, results), scored_on(plan), curves) else []
    print(f"wrote {', '.join(str(path) for path in [stem.with_suffix('.md'), *drawn])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
