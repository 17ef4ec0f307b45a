"""``python -m denoise_lab.design_cost``: what a network design would cost on this CPU, before it is trained.

A design is a shipped checkpoint's network configuration with some options changed, named on the command line
(``--design wide0:widths=96,96,128,256``, ``--design deep:blocks_per_level=2``). Each is built with untrained
weights (its time does not depend on them) and timed as the leaderboard times a method: the protocol's noisy
image at sigma 25/255 through :class:`~denoise.denoiser.Denoiser`, the call alone, on the first images of a
benchmark set. FFDNet runs on the same images in the same process, and the rows take turns round after round,
so a machine whose speed drifts favours none. The table gives each design's parameters, GMACs per megapixel,
seconds per megapixel (the median round) and its share of FFDNet's time, against the cost target of at most
half (the issue "Generalise beyond BSD").
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from denoise.baselines.peers import ffdnet_denoise, peer_unavailable
from denoise.checkpoint import CheckpointError, load_checkpoint
from denoise.data.images import list_images, read_uint8
from denoise.denoiser import Denoiser, NetworkMethod
from denoise.models import create_model
from denoise.protocol import Method, image_seed, score_image
from denoise.tiling import DEFAULT_OVERLAP
from denoise.utils.files import atomic_write_text
from denoise.utils.machine import machine_description
from denoise_lab.leaderboard.runner import resolve_benchmark
from denoise_lab.profile import count_parameters, gmacs_per_megapixel

SIGMA255 = 25.0
TARGET_SHARE = 0.5  # at most half of FFDNet's seconds per megapixel
PEER = "ffdnet"


def parse_value(text: str) -> object:
    """``96,96,128,256`` -> a tuple of ints; ``2`` -> 2; ``true``/``false`` -> bool; anything else as text."""
    if "," in text:
        return tuple(parse_value(part) for part in text.split(","))
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        return text


def parse_design(text: str) -> tuple[str, dict]:
    """``NAME:key=value;key=value`` -> (NAME, {key: value}); ``NAME`` alone changes nothing (the base)."""
    name, _, changes = text.partition(":")
    options = {}
    for change in filter(None, changes.split(";")):
        key, equals, value = change.partition("=")
        if not equals or not key:
            raise ValueError(f"design {text!r}: write each change as key=value, separated by ';'")
        options[key.strip()] = parse_value(value.strip())
    if not name:
        raise ValueError(f"design {text!r} has no name: write NAME:key=value")
    return name, options


def build_design(base: dict, options: dict) -> torch.nn.Module:
    """The base configuration with ``options`` changed, built with untrained weights (a clear error if unknown)."""
    unknown = sorted(set(options) - set(base))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)}; the base network has {', '.join(sorted(base))}")
    return create_model(**{**base, **options}).eval()


def network_method(model: torch.nn.Module, name: str) -> Method:
    """The call the leaderboard times for a checkpoint (channels-last, whole image, the default overlap)."""
    function = NetworkMethod(model, None, DEFAULT_OVERLAP, channels_last=True)
    return Denoiser({model.channels: function}, torch.device("cpu"), name=f"design {name} (untrained)")


def time_rounds(
    methods: dict[str, Method], images: list[tuple[int, np.ndarray]], rounds: int, progress: Callable[[str], None]
) -> dict[str, list[float]]:
    """Seconds per megapixel of each method over ``images`` ((protocol seed, uint8 image) pairs), per round; the
    methods take turns in each round."""
    megapixels = sum(image.shape[0] * image.shape[1] for _, image in images) / 1e6
    times: dict[str, list[float]] = {name: [] for name in methods}
    for round_index in range(rounds):
        for name, method in methods.items():
            seconds = sum(score_image(method, image, SIGMA255, seed).seconds for seed, image in images)
            times[name].append(seconds / megapixels)
            progress(f"round {round_index + 1}/{rounds}: {name} {times[name][-1]:.3f} s/MP")
    return times


def render(command: str, machine: str, dataset: str, count: int, rows: list[dict], peer: float) -> str:
    lines = [
        f"Made by `{command}` on {machine}.",
        "",
        f"Untrained networks timed as the leaderboard times a method (sigma {SIGMA255:g}/255, the call alone) on "
        f"the first {count} images of {dataset}, FFDNet on the same images in the same run; seconds per megapixel "
        f"are the median of the rounds. Cost target: at most {TARGET_SHARE:.0%} of FFDNet's time "
        f"({peer * TARGET_SHARE:.3f} s/MP here).",
        "",
        "| design | changes | parameters | GMACs / MP | s / MP | share of FFDNet's time | within target |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        share = row["s_per_mp"] / peer
        lines.append(
            f"| {row['name']} | {row['changes']} | {row['parameters'] / 1e6:.2f} M | {row['gmacs']:.1f} | "
            f"{row['s_per_mp']:.3f} | {share:.0%} | {'yes' if share <= TARGET_SHARE else 'no'} |"
        )
    lines.append(f"| {PEER} | - | - | - | {peer:.3f} | 100% | - |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.design_cost", description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, default=Path("checkpoints/denoise-colour.pt"), help="its network config")
    parser.add_argument("--design", action="append", default=[], metavar="NAME:key=value;...",
                        help="a design to time (repeat); the base itself is always the first row")  # fmt: skip
    parser.add_argument("--dataset", default="CBSD68", help="a registered benchmark set or a folder")
    parser.add_argument("--images", type=int, default=8, help="the first N images of the set")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of turns")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads")
    parser.add_argument("--out", type=Path, default=Path("results/design_cost.md"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        base_model, _ = load_checkpoint(args.base)
        base = dict(base_model.model_config)
        designs = [("base", {}), *(parse_design(text) for text in args.design)]
        models = {name: build_design(base, options) for name, options in designs}
        benchmark = resolve_benchmark(args.dataset)
    except (ValueError, FileNotFoundError, CheckpointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if reason := peer_unavailable(PEER):
        print(f"error: {PEER} is needed as the yardstick: {reason}", file=sys.stderr)
        return 2
    channels = base_model.channels
    paths = list_images(benchmark.folder)[: args.images]
    images = [(image_seed(path), read_uint8(path, grey=channels == 1)) for path in paths]
    methods = {PEER: ffdnet_denoise, **{name: network_method(model, name) for name, model in models.items()}}
    times = time_rounds(methods, images, args.rounds, lambda line: print(line, file=sys.stderr))
    rows = [
        {
            "name": name,
            "changes": "; ".join(f"{key}={value}" for key, value in options.items()) or f"{args.base.name} as it is",
            "parameters": count_parameters(models[name]),
            "gmacs": gmacs_per_megapixel(models[name], channels),
            "s_per_mp": statistics.median(times[name]),
        }
        for name, options in designs
    ]
    command = "python -m denoise_lab.design_cost " + " ".join(sys.argv[1:] if argv is None else argv)
    text = render(command, machine_description(), benchmark.name, len(images), rows, statistics.median(times[PEER]))
    atomic_write_text(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
