"""``python -m denoise_lab.model_card``: write ``checkpoints/README.md``, the card of the shipped models.

Everything in the card is read from the checkpoints (network, training data, noise range, steps, wall time and
machines, recorded by the training run) and from ``results/leaderboard.csv`` (the scores), so the card says
what the files are, and ``make docs`` keeps it in step. It also writes ``results/model_status.md``, the
status lines of docs/training.md (per model: its phases, and where it stands against every method on each
benchmark set).
"""

from __future__ import annotations

import argparse
import csv
import functools
import sys
from pathlib import Path

import yaml

from denoise.checkpoint import DEFAULT_CHECKPOINTS, checkpoint_dir, load_checkpoint
from denoise.models.registry import PRETRAINED, RAW_PLANES
from denoise.utils.files import atomic_write_text
from denoise.utils.machine import ran_on_gpu
from denoise_lab.leaderboard.report import UNRECORDED, summarise
from denoise_lab.profile import count_parameters, gmacs_per_megapixel

EXPERIMENTS = {1: "grey", 3: "colour", 4: "raw"}  # `make train EXPERIMENT=...` per channel count
NOISE_EXPERIMENTS = {"camera": "real", "raw": "raw", "gaussian": None}  # ... per recorded training noise
BENCHMARKS = {3: ("CBSD68", "Kodak24", "McMaster"), 1: ("BSD68", "Set12")}
PEER = "ffdnet"
NOISY = "noisy"  # the leaderboard's row of the noisy input itself: no rival to stand against
TRAINER_CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "trainer"  # `make train TRAINER=cpu|gpu`
IN_TRAINING = "in-training"  # sub-folder of the checkpoint folder: light checkpoints of unfinished runs
GAUSSIAN_LIMITS = (
    "Trained on synthetic additive white Gaussian noise only. Real camera noise is signal-dependent and spatially "
    "correlated: for photos without --sigma the blind models below are used instead.",
    "Noise levels above 75/255 were never seen in training.",
    "Trained on natural photographs (the training data above); other content (text, medical, astronomy) is out of "
    "its distribution.",
)
RENDERED_NOTE = (  # denoise.training.lit_module's rendered_loss_weight
    " in linear raw, plus the same loss after the fixed simple rendering to sRGB in the runs that say so below"
)


def ensemble_note(table: str) -> str:
    """The blind models' limit of denoise.denoiser.BLIND_ENSEMBLE, citing the held-out ``table`` that measured it."""
    return (
        "Without --sigma the command line, the page and the Python API average two passes, the photo's and its "
        "anti-transpose's, so it takes twice one pass's time; `--ensemble 1` (`ensemble=1`) runs one, a little "
        f"worse (`results/{table}`)."
    )


KIND_LIMITS = {
    "grey": GAUSSIAN_LIMITS,
    "colour": GAUSSIAN_LIMITS,
    "real": (
        "Its camera noise is synthetic: four cameras' colour matrices mixed at random, a bilinear demosaicking, a "
        "simple model of a camera's noise reduction and sharpening (in its last run only), a fixed tone curve "
        "and JPEG. A phone's processing (multi-frame merging, local tone mapping) or a raw converter's is not "
        "among them, so on such photos it may leave noise or remove texture.",
        "It was trained for CPU hours only (the steps above), far less than the Gaussian models; where it stands "
        "on real photos is in `results/leaderboard_real.md`.",
        "Colour photos only; grey photos without --sigma go to its grey twin, `denoise-real-grey.pt`.",
        ensemble_note("heldout_ensemble.md"),
    ),
    "real-grey": (
        "Its camera noise is synthetic and the same as the colour blind model's, taken as the luma of a colour "
        "camera's photo: grain of film or of a monochrome sensor was never seen.",
        "Its estimator trained for under an hour of CPU beside the shipped grey UNet, held fixed. Its table is "
        "PolyU100's colour photos taken as grey (their luma), not photos from a grey camera.",
        ensemble_note("heldout_ensemble_grey.md"),
    ),
    "raw": (
        "Trained on synthetic raw only (clean sRGB photographs unprocessed to four cameras' raw, Poisson-Gaussian "
        "noise): a sensor's fixed-pattern noise, hot pixels and banding were never seen.",
        "Bayer sensors only (RGGB, BGGR, GRBG, GBRG); X-Trans, monochrome and linear DNGs are refused.",
        "Without --iso and a NoiseProfile tag the noise is estimated from the mosaic's two green planes, which "
        "texture can bias upwards (more smoothing).",
        "The command line and the Python API average two passes over a raw file, the mosaic's and its "
        "Bayer-preserving anti-transpose's (`denoise/raw/views.py`), so it takes twice one pass's time; "
        "`--ensemble 1` runs one, worse (`results/heldout_ensemble_raw.md`).",
    ),
}
KIND_TABLES = {  # the kinds scored on a table of their own, not the Gaussian leaderboard: (file, command)
    "raw": ("leaderboard_raw.md", "make leaderboard-raw"),
    "real": ("leaderboard_real.md", "python -m denoise_lab.leaderboard.real"),
    "real-grey": ("leaderboard_real_grey.md", "python -m denoise_lab.leaderboard.real --grey"),
}
TITLES = {
    "grey": "grey images",
    "colour": "colour images",
    "real": "colour images, real noise, no sigma given (the default without --sigma)",
    "real-grey": "grey images, real noise, no sigma given (the default without --sigma)",
    "raw": "camera raw (the Bayer mosaic of a raw or DNG file, as packed RGGB planes)",
}


def read_rows(path: Path) -> list[dict]:
    """The rows of a leaderboard CSV with numbers as floats ([] when the file does not exist)."""
    if not path.is_file():
        return []
    with path.open() as stream:
        return [{**row, "sigma": float(row["sigma"]), "psnr": float(row["psnr"]), "ssim": float(row["ssim"]),
                 "seconds": float(row["seconds"]), "megapixels": float(row["megapixels"])}
                for row in csv.DictReader(stream)]  # fmt: skip


def _hours(seconds: float | None) -> str:
    return "not recorded" if seconds is None else f"{seconds / 3600:.2f} h"


def scores(name: str, channels: int, summary: dict) -> list[str]:
    """Markdown rows: this model and FFDNet per benchmark set, PSNR at each sigma and s/MP."""
    lines = ["| set | method | " + " | ".join(f"sigma {s:g}" for s in (15, 25, 50)) + " | s / MP |",
             "|---|---|---:|---:|---:|---:|"]  # fmt: skip
    for dataset in BENCHMARKS[channels]:
        for method in (name, PEER):
            stats = summary.get(dataset, {}).get(method)
            if stats is None:
                lines.append(f"| {dataset} | {method} | - | - | - | - |")
                continue
            cells = " | ".join(f"{stats['psnr'][s]:.2f}" if s in stats["psnr"] else "-" for s in (15.0, 25.0, 50.0))
            lines.append(f"| {dataset} | {method} | {cells} | {stats['s_per_mp']:.3f} |")
    return lines + ["", *comparison(name, channels, summary)]


def cost(ours: dict, peer: dict) -> str:
    """This model's time per megapixel as a share of FFDNet's, where one machine timed both (summary entries)."""
    if ours["machines"] == peer["machines"] and len(ours["machines"]) == 1 and UNRECORDED not in ours["machines"]:
        return f"time per megapixel {ours['s_per_mp'] / peer['s_per_mp']:.0%} of FFDNet's, timed on one machine"
    return (
        "times not compared, as one recorded machine did not take both (`python -m denoise_lab.leaderboard --retime`)"
    )


def comparison(name: str, channels: int, summary: dict) -> list[str]:
    """One sentence per set: the mean PSNR difference to FFDNet over the sigmas both have, and the cost."""
    sentences = []
    for dataset in BENCHMARKS.get(channels, ()):
        ours, peer = summary.get(dataset, {}).get(name), summary.get(dataset, {}).get(PEER)
        shared = sorted(set(ours["psnr"]) & set(peer["psnr"])) if ours and peer else []
        if not shared:
            continue
        gaps = [ours["psnr"][s] - peer["psnr"][s] for s in shared]
        mean = sum(gaps) / len(gaps)
        below = sum(gap < 0 for gap in gaps)
        verdict = f"below FFDNet at {below} of {len(gaps)} sigmas" if below else "at or above FFDNet at every sigma"
        sentences.append(f"On {dataset}: {mean:+.2f} dB against FFDNet on average ({verdict}); {cost(ours, peer)}.")
    return [" ".join(sentences)] if sentences else []


def standing(name: str, dataset: str, summary: dict) -> str:
    """Against each other method scored on ``dataset`` (the noisy input aside): at how many sigmas this model is
    at or above it, e.g. ``bm3d 2 of 3``; empty when this model was not scored there."""
    methods = summary.get(dataset, {})
    ours = methods.get(name)
    parts = []
    for method, stats in sorted(methods.items()) if ours else ():
        shared = sorted(set(ours["psnr"]) & set(stats["psnr"]))
        if method not in (name, NOISY) and shared:
            above = sum(ours["psnr"][s] >= stats["psnr"][s] for s in shared)
            parts.append(f"{method} {above} of {len(shared)}")
    return f"At or above, by sigma, on {dataset}: {', '.join(parts)}." if parts else ""


def phases_in_short(meta: dict) -> str:
    """The training phases as step counts grouped by device, e.g. ``GPU 15000; CPU 6600, 7200``."""
    groups: list[tuple[str, list[str]]] = []
    for (first, *_), end in training_phases(meta.get("runs") or [], meta.get("global_step")):
        device = "GPU" if _device(first, meta) == "cuda" else "CPU"
        if not groups or groups[-1][0] != device:
            groups.append((device, []))
        groups[-1][1].append(str(end - first["start_step"]) if end is not None else "?")
    return "; ".join(f"{device} {', '.join(steps)}" for device, steps in groups)


def status(folder: Path, results: Path) -> str:
    """One bullet per shipped model for the status in docs/training.md: its training phases, then where it stands
    on each benchmark set against every method and, in the card's words, against FFDNet."""
    summary = summarise(read_rows(results / "leaderboard.csv"))
    lines = []
    for channels, name in DEFAULT_CHECKPOINTS.items():
        path = folder / name
        if not path.is_file():
            continue
        _, meta = load_checkpoint(path)
        steps = f"{meta.get('global_step', '?')} steps, by phase: {phases_in_short(meta)}" if meta.get("runs") else ""
        standings = [standing(path.stem, dataset, summary) for dataset in BENCHMARKS.get(channels, ())]
        sentences = [*comparison(path.stem, channels, summary), *filter(None, standings)]
        lines.append(f"- `{name}` ({steps or 'no training record'}). {' '.join(sentences)}".rstrip())
    return "\n".join(lines or ["No trained checkpoint ships yet."]) + "\n"


def summary_line(path: Path) -> str:
    """Steps, wall time and runs of an unfinished checkpoint, in one line."""
    model, meta = load_checkpoint(path)
    runs = " ".join(history(meta))[len("- Runs: ") :] if meta.get("runs") else ""
    return (f"`{model.model_config['name']}`, {model.channels} channel(s), step {meta.get('global_step', '?')}, "
            f"{_hours(meta.get('train_seconds'))} of training. {runs}").strip()  # fmt: skip


def _describe_network(config: dict) -> str:
    """A short name for a network configuration, e.g. ``unet 64-96-128-256``."""
    widths = "-".join(str(width) for width in config.get("widths", ()))
    extra = f" + {config['refine_blocks']} refine blocks" if config.get("refine_blocks") else ""
    return f"{config.get('name', '?')} {widths}{extra}"


def _device(run: dict, meta: dict) -> str:
    """``cuda`` or ``cpu``: as the run recorded it; for runs from before that, a GPU if any machine had one."""
    return run.get("device") or ("cuda" if any(map(ran_on_gpu, meta.get("machines", []))) else "cpu")


@functools.cache  # read once per config: the card asks for every run
def config_precision(trainer: str) -> str | None:
    """The precision that ``configs/trainer/<trainer>.yaml`` sets; None where that file is not at hand."""
    path = TRAINER_CONFIGS / f"{trainer}.yaml"
    if not path.is_file():
        return None
    return str((yaml.safe_load(path.read_text()).get("trainer") or {}).get("precision"))


def unusual_precision(run: dict, meta: dict) -> str | None:
    """A run's precision where it is not its trainer config's (e.g. bf16 on a CPU), else None."""
    precision = run.get("precision")
    trainer = "gpu" if _device(run, meta) == "cuda" else "cpu"  # `make train TRAINER=...`
    return precision if precision and precision != config_precision(trainer) else None


def _warm_start(run: dict) -> bool:
    """Whether a run began a phase from a light checkpoint (``init_from``), not resumed one (``--ckpt_path``)."""
    return bool(run.get("init_from")) and not run.get("resumed")


def _short(run: dict, end: int | None) -> bool:
    """Whether a run, or its phase, stopped at ``end`` before the step its learning-rate schedule ended at."""
    return bool(run.get("schedule_end") and end and end < run["schedule_end"])


def rendered_weight(run: dict, meta: dict, last: bool) -> float:
    """The weight of a raw phase's loss after the fixed rendering (``--model.rendered_loss_weight``), 0 for none.

    ``run`` is the phase's latest run. Runs record it since the option exists; the last phase of a checkpoint
    saved before that has it in the checkpoint's own hyperparameters, which are its last run's.
    """
    if "rendered_loss_weight" in run:
        return float(run["rendered_loss_weight"])
    return float(meta.get("rendered_loss_weight") or 0.0) if last else 0.0


def any_rendered_loss(meta: dict) -> bool:
    """Whether any phase of the checkpoint added the loss after the fixed rendering (see ``rendered_weight``)."""
    phases = training_phases(meta.get("runs") or [{}], meta.get("global_step"))
    return any(rendered_weight(runs[-1], meta, index == len(phases) - 1) for index, (runs, _) in enumerate(phases))


def history(meta: dict) -> list[str]:
    """The training phases that led to the checkpoint (the first run and each warm start), as one bullet.

    A resume (``--ckpt_path``) carries its phase on: it is counted in that phase, not listed as a run of its own.
    """
    if not meta.get("runs"):
        return []
    parts = []
    phases = training_phases(meta["runs"], meta.get("global_step"))
    for index, ((run, *resumes), end) in enumerate(phases):
        start = [f"warm start from `{Path(run['init_from']).name}`"] if _warm_start(run) else []
        start += [f"grown from {_describe_network(run['grown_from'])}"] if run.get("grown_from") else []
        start += [f"pruned from {_describe_network(run['pruned_from'])}"] if run.get("pruned_from") else []
        start += ["a fresh schedule"] if _warm_start(run) and run.get("restart_schedule") else []
        start += [f"`{'`, `'.join(run['frozen'])}` held fixed"] if run.get("frozen") else []
        notes = [", ".join(start)] if start else []
        notes += [f"resumed {_times(len(resumes))} from its last save"] if resumes else []
        latest = resumes[-1] if resumes else run  # its schedule end is the phase's, wherever it stopped
        if weight := rendered_weight(latest, meta, index == len(phases) - 1):
            notes.append(f"the loss after the fixed rendering added at weight {weight:g}")
        parts.append(
            f"steps {run['start_step']}-{end} at peak lr {run['lr']}"
            + (f" on {'GPU' if run['device'] == 'cuda' else 'CPU'}" if run.get("device") else "")
            + (f" in {precision}" if (precision := unusual_precision(run, meta)) else "")
            + (f", batches of {run['batch_size']}" if run.get("batch_size") else "")
            + (f" ({'; '.join(notes)})" if notes else "")
            + (f", stopped before its schedule's end at step {latest['schedule_end']}" if _short(latest, end) else "")
        )
    return [f"- Runs: {'; '.join(parts)}."]


def swapped_unet(meta: dict) -> list[str]:
    """A bullet for a blind model whose UNet was put in at export (``python -m denoise.export --denoiser``), else
    none: which file's UNet, of which step, and which UNet the estimator of the runs above was trained beside."""
    swapped = meta.get("denoiser_from")
    if not swapped:
        return []
    runs = meta.get("runs") or [{}]
    beside = f" beside the UNet of step {runs[-1]['start_step']}" if "denoiser" in runs[-1].get("frozen", []) else ""
    return [
        f"- UNet: its weights replaced at export by those of `{swapped['file']}` (step {swapped['global_step']}, "
        f"trained further on Gaussian noise; `python -m denoise.export --denoiser`). The estimator, trained{beside} "
        "in the runs above, is unchanged and hands the new UNet the same levels."
    ]


def training_phases(runs: list[dict], global_step: int | None) -> list[tuple[list[dict], int | None]]:
    """The runs grouped by phase (a first run or a warm start, then its resumes), each with the step it ended at."""
    starts = [index for index, run in enumerate(runs) if index == 0 or _warm_start(run)]
    phases = [runs[start:stop] for start, stop in zip(starts, [*starts[1:], len(runs)], strict=True)]
    ends = [phase[0]["start_step"] for phase in phases[1:]] + [global_step]
    return list(zip(phases, ends, strict=True))


def _times(count: int) -> str:
    """``once``, ``twice``, ``3 times``."""
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def reproduce(meta: dict, experiment: str, final: dict) -> str:
    """The commands that retrace the checkpoint's training, as Markdown.

    One ``make train`` per phase: the first run and each warm start (a resume belongs to its phase), on the
    phase's hardware (``TRAINER=gpu`` for a GPU). A phase names its last step when it ran on a GPU or is a warm
    start (a first run on the CPU follows the configs' schedule, wherever it stopped); the first names its
    weights' init; a warm start names the previous phase's export, its learning rate, a fresh schedule when it
    had one, its network's refine blocks (the only change growth allows), and its widths from a pruning on; any
    phase names the seeds of its noise and patches where they were not the configs' 0, its precision where it was
    not its trainer config's, and the step its schedule ended at where it stopped before that
    (``--model.schedule_steps``).
    ``final`` is the shipped network's configuration.
    """
    phases = [
        (runs[0], runs[-1], end)
        for runs, end in training_phases(meta.get("runs") or [{"start_step": 0}], meta.get("global_step"))
    ]
    networks = [phase.get("grown_from") or phase.get("pruned_from") for phase, _, _ in phases[1:]] + [final]
    experiments = phase_experiments([phase for phase, _, _ in phases], experiment, final)
    commands = []
    for index, (phase, latest, end) in enumerate(phases):
        experiment = experiments[index]
        on_gpu = _device(phase, meta) == "cuda"
        args = [f"--trainer.max_steps {end}"] if end and (on_gpu or index) else []
        args += [f"--model.schedule_steps {latest['schedule_end']}"] if args and _short(latest, end) else []
        if precision := unusual_precision(phase, meta):  # e.g. bf16 on a CPU that computes it fast
            args.append(f"--trainer.precision {precision}")
        if not index and final.get("init"):  # only the first run's init shapes the weights: named, whatever configs say
            args.append(f"--model.net.init_args.init {final['init']}")
        if index:
            args += [
                f"--model.init_from runs/{experiments[index - 1]}/phase{index}.pt",
                f"--model.lr {phase.get('lr')}",
            ]
            args += ["--model.restart_schedule true"] if phase.get("restart_schedule") else []
        if weight := rendered_weight(latest, meta, index == len(phases) - 1):
            args.append(f"--model.rendered_loss_weight {weight:g}")
        args += [f"--seed_everything {phase['seed']}"] if phase.get("seed") else []  # the configs seed 0
        args += [f"--data.seed {phase['data_seed']}"] if phase.get("data_seed") else []
        network = next(net for net in networks[index:] if net is not None)  # None: as the next phase
        args += (
            [f"--model.net.init_args.refine_blocks {network['refine_blocks']}"] if network.get("refine_blocks") else []
        )
        if any(earlier.get("pruned_from") for earlier, _, _ in phases[: index + 1]):  # narrower than the configs'
            args.append(f"--model.net.init_args.widths [{','.join(str(width) for width in network['widths'])}]")
        train = f"make train EXPERIMENT={experiment}" + (" TRAINER=gpu" if on_gpu else "")
        # the Gaussian experiments now train on the photo mixture; their phases recorded before that (or on
        # CBSD432 alone) name the BSD-only data config
        if experiment in ("colour", "grey") and phase.get("train_sets", ["CBSD432"]) == ["CBSD432"]:
            train += " DATA_CONFIG=cbsd432"
        commands.append(train + (f' TRAIN_ARGS="{" ".join(args)}"' if args else ""))
        last = index == len(phases) - 1
        commands.append(
            f"make export-checkpoint EXPERIMENT={experiment}"
            + ("" if last else f" EXPORT_TO=runs/{experiment}/phase{index + 1}.pt")
            + (f' EXPORT_ARGS="{meta["export_args"]}"' if last and meta.get("export_args") else "")
        )
    first, *rest = commands
    return "`" + "`, then `".join([f"make data DATA_MIRROR=../shared/datasets && {first}", *rest]) + "`"


def phase_experiments(phases: list[dict], experiment: str, final: dict) -> list[str]:
    """The ``make train EXPERIMENT=`` of each phase: as recorded (its ``noise``), else ``experiment`` from the
    last change of architecture on (e.g. the blind model grown from the colour UNet) and, before it, the Gaussian
    experiment of the network it grew from."""
    changed = [
        i
        for i, phase in enumerate(phases)
        if (phase.get("grown_from") or {}).get("name", final.get("name")) != final.get("name")
    ]
    first_own = changed[-1] if changed else 0
    before = EXPERIMENTS.get(final.get("channels", 3), "colour")
    grey = final.get("channels") == 1
    own = [NOISE_EXPERIMENTS.get(phase.get("noise")) for phase in phases]
    own = [f"{name}-grey" if name == "real" and grey else name for name in own]  # the blind grey model's twin
    return [name or (experiment if index >= first_own else before) for index, name in enumerate(own)]


def augmentation(data: dict) -> str:
    """The training data's colour jitter and downscaled copies, as a clause (empty when it had none)."""
    parts = []
    if data.get("downscales"):
        scales = ", ".join(f"{factor:g}" for factor in data["downscales"])
        parts.append(f"photos with a side of {data.get('downscale_min_side', '?')} px or more also at {scales} scale")
    if data.get("grey"):  # the colour maps touch colour patches only
        return "".join(f", {part}" for part in parts)
    low, high = data.get("saturation") or (1.0, 1.0)
    if data.get("saturation_p") and (low, high) != (1.0, 1.0):
        parts.append(f"chroma scaled by [{low:g}, {high:g}] (p {data['saturation_p']:g})")
    if data.get("hue_p"):
        parts.append(f"hue rotated (p {data['hue_p']:g})")
    if data.get("permute_p"):
        parts.append(f"channels permuted (p {data['permute_p']:g})")
    return "".join(f", {part}" for part in parts)


def validation(data: dict) -> str:
    """What the run validated on: images held out of its training sets, and/or its validation set."""
    held = [f"{count} of {name}" for name, count in (data.get("holdout") or {}).items() if count]
    parts = [f"images held out of training ({', '.join(held)})"] if held else []
    parts += [data["val_set"]] if data.get("val_set") else []
    return " and ".join(parts) or "not recorded"


def in_255(meta: dict, name: str, default="?"):
    """A training hyperparameter in 8-bit units: ``NAME_255``, or ``NAME`` in checkpoints saved before the rename."""
    return meta.get(f"{name}_255", meta.get(name, default))


BLEND = (
    " Exported with the gated pixel-shuffle blend (`python -m denoise.export --phase-blend`, untrained, no weights):"
    " the output is half the UNet's denoising and half its denoising of the image's 2 x 2 sampling phases, that half"
    " scaled by how spatially correlated the image's noise is (none for white noise)."
)


BLEND_LIMIT = (
    "Its pixel-shuffle blend was kept for what it does on real photos (`results/leaderboard_real.md`) against "
    "the synthetic camera noise of its own validation, on which it scores lower (docs/training.md): the synthetic "
    "noise is less correlated than a real camera's. It runs its full-resolution estimator, then the UNet twice "
    "(once where its gate measures white noise), so a blind photo takes several times as long as one with --sigma "
    "(`results/bench_files.md` against `results/bench.md`)."
)


def blended(meta: dict) -> bool:
    """True for a checkpoint exported with the gated pixel-shuffle blend."""
    return "--phase-blend" in (meta.get("export_args") or "")


def noise_line(meta: dict) -> str:
    """The card's line on the training noise: Gaussian of a given sigma, or a camera's (a blind model)."""
    if meta.get("noise") == "raw":
        return (
            "- Noise: synthetic raw (Brooks et al. 2019: the clean patch unprocessed to a random camera's linear raw, "
            "packed to RGGB planes) with Poisson-Gaussian noise of an ISO drawn log-uniformly from 100 to 25600 "
            "(`denoise/raw/noise_profile.py`'s model, read noise jittered); the network takes the planes and the map "
            "sqrt(shot x + read) of their local level, and predicts the noise (residual learning)."
        )
    if meta.get("noise") == "camera":
        recipes = {run.get("camera_noise", 1) for run in meta.get("runs") or [] if run.get("noise") == "camera"}
        if recipes == {2}:
            camera = (
                "the noise alone, that rendering minus the noiseless mosaic's, reduced and sharpened as a camera "
                "does, its chroma damped (`denoise/data/noise_shaping.py`), added to the clean patch, JPEG at a "
                "random quality"
            )
        else:
            camera = (
                "that noise reduced and sharpened as a camera does (`denoise/data/noise_shaping.py`; runs before "
                "2026-12-02's third session had no such step), with the noisy mosaic itself processed, so the bilinear "
                "demosaicking's own errors came with the noise (the recipe before 2026-12-03), JPEG at a random quality"
            )
        return (
            "- Noise: realistic camera noise (Brooks et al. 2019: the clean patch unprocessed to a random camera's "
            f"raw mosaic, shot and read noise of a random ISO, demosaicked and processed back; {camera}), with white "
            f"Gaussian noise up to {in_255(meta, 'sigma_max')}/255 on a fifth of the patches; blind: a small network "
            "estimates the noise level, which the UNet takes (residual learning)." + (BLEND if blended(meta) else "")
        )
    return (
        f"- Noise: Gaussian, sigma drawn uniformly from [{in_255(meta, 'sigma_min')}, "
        f"{in_255(meta, 'sigma_max')}]/255 per patch; sigma is an input (a noise map) and the network predicts "
        "the noise (residual learning)."
    )


def card(path: Path, summary: dict, results: Path) -> list[str]:
    """The card's section for one checkpoint file."""
    model, meta = load_checkpoint(path)
    channels = model.channels
    data = meta.get("data", {})
    config = ", ".join(f"{key}={value}" for key, value in model.model_config.items() if key != "name")
    kind = kind_of(channels, meta)
    experiment = {"grey": "grey", "colour": "colour"}.get(kind, kind)
    runs = meta.get("runs") or []
    several = len({run.get("lr") for run in runs}) > 1 or any(run.get("batch_size") for run in runs)
    batches = "batches per run (below)" if several else f"batches of {data.get('batch_size', '?')}"
    peak = "peak lr per run (below)" if several else f"lr {meta.get('lr', '?')}"
    subset = f" (its first {data['val_images']} images)" if data.get("val_images") else ""
    lines = [
        f"## `{path.name}`: {TITLES[kind]}",
        "",
        f"- Network: `{model.model_config['name']}` ({config}); {count_parameters(model) / 1e6:.2f} M parameters, "
        f"{gmacs_per_megapixel(model, channels) / (RAW_PLANES if kind == 'raw' else 1):.1f} GMACs per megapixel"
        f"{' of mosaic' if kind == 'raw' else ''}; {path.stat().st_size / 2**20:.1f} MB.",
        f"- Training data: {', '.join(data.get('train_sets', ['not recorded']))}"
        f"{' (grey versions)' if data.get('grey') else ''}, random {data.get('patch_size', '?')}x"
        f"{data.get('patch_size', '?')} patches{' drawn by area' if data.get('sample_by_area') else ''}, "
        f"{batches}, flips and rotations{augmentation(data)}; validation on {validation(data)}{subset}.",
        noise_line(meta),
        f"- Optimisation: {meta.get('loss', '?')} loss{RENDERED_NOTE if any_rendered_loss(meta) else ''}, AdamW "
        f"{peak}, weight decay "
        f"{meta.get('weight_decay', '?')}, {meta.get('warmup_steps', '?')} warm-up steps then cosine decay.",
        *history(meta),
        *swapped_unet(meta),
        f"- Steps: {meta.get('global_step', 'not recorded')} (checkpoint `{meta.get('source', '?')}`); training wall "
        f"time {_hours(meta.get('train_seconds'))} (validation included) on: "
        + "; ".join(meta.get("machines", ["not recorded"]))
        + ".",
        f"- Reproduce: {reproduce(meta, experiment, model.model_config)} (resume a stopped run with "
        "`--ckpt_path last` in `TRAIN_ARGS`).",
        *(f"- Limit: {limit}" for limit in KIND_LIMITS[kind]),
        *([f"- Limit: {BLEND_LIMIT}"] if blended(meta) else []),
        "",
        *(
            table_scores(results, *KIND_TABLES[kind])
            if kind in KIND_TABLES
            else gaussian_scores(path.stem, channels, summary)
        ),
        "",
    ]
    return lines


def kind_of(channels: int, meta: dict) -> str:
    """``grey``, ``colour``, ``real`` / ``real-grey`` (the blind models, trained on camera noise) or ``raw``."""
    kind = {"camera": "real", "raw": "raw"}.get(meta.get("noise"), "grey" if channels == 1 else "colour")
    return "real-grey" if kind == "real" and channels == 1 else kind


def gaussian_scores(name: str, channels: int, summary: dict) -> list[str]:
    return [
        "Scores under the evaluation protocol, PSNR in dB (from `results/leaderboard.csv`, `make leaderboard`):",
        "",
        *scores(name, channels, summary),
    ]


def table_scores(results: Path, name: str, command: str) -> list[str]:
    """A kind's own benchmark table (``results/NAME``, written by ``command``), as it stands."""
    table = results / name
    if not table.is_file():
        return [f"Not yet scored on its benchmark (`{command}`)."]
    return [f"On its benchmark (`results/{name}`, `{command}`):", "", *table.read_text().splitlines()]


def render(folder: Path, results: Path) -> str:
    summary = summarise(read_rows(results / "leaderboard.csv"))
    paths = [folder / entry.file for entry in PRETRAINED.values() if (folder / entry.file).is_file()]
    lines = [
        "# Model card: the shipped checkpoints",
        "",
        "<!-- generated by `python -m denoise_lab.model_card` from the checkpoints and results/; do not edit -->",
        "",
        "`python -m denoise.infer` loads these by default and picks the model per input: grey or colour with a "
        "sigma, the blind model for a colour photo without one, the raw model for a camera raw file. Each "
        "file holds the network's configuration and weights (`denoise-checkpoint/1`) and the training run's record.",
        "",
    ]
    if not paths:
        lines += ["No trained checkpoint ships yet.", ""]
    unfinished = sorted((folder / IN_TRAINING).glob("*.pt")) if (folder / IN_TRAINING).is_dir() else []
    if unfinished:
        lines += [
            f"Unfinished runs: `{IN_TRAINING}/` holds the latest light checkpoints of runs still in progress "
            "(not loaded by default; they are there so training can go on from them on any machine):",
            "",
            *(f"- `{IN_TRAINING}/{path.name}`: {summary_line(path)}" for path in unfinished),
            "",
        ]
    for path in paths:
        lines += card(path, summary, results)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.model_card", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", type=Path, default=checkpoint_dir(), help="folder of the checkpoints")
    parser.add_argument("--results", type=Path, default=Path("results"), help="folder with leaderboard.csv")
    parser.add_argument("--out", type=Path, help="output (default: README.md in the checkpoint folder)")
    parser.add_argument(
        "--status-out",
        type=Path,
        help="the status lines of docs/training.md (default: model_status.md in the results folder)",
    )
    args = parser.parse_args(argv)
    out = args.out or args.checkpoints / "README.md"
    status_out = args.status_out or args.results / "model_status.md"
    atomic_write_text(out, render(args.checkpoints, args.results))
    atomic_write_text(status_out, status(args.checkpoints, args.results))
    print(f"wrote {out} and {status_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
