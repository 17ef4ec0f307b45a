"""``python -m denoise_lab.leaderboard.raw``: the camera-raw table, on synthetic raw of the colour test sets.

Each clean test image (its central ``--crop`` square) is unprocessed to linear camera raw with a camera drawn
from its seed (Brooks et al. 2019; :mod:`denoise.data.raw_synthesis`), packed to RGGB planes, and given the
Poisson-Gaussian noise of each ``--isos`` level under the stated ISO model (:mod:`denoise.raw.noise_profile`).
Every method is given that exact noise profile. Scores: PSNR in linear raw (data range 1), and PSNR after one
fixed simple rendering (bilinear demosaicking, the camera's white balance and colour matrix, gamma, tone
curve; 8-bit, the protocol's metric code) against the rendered clean raw. Methods:

- ``noisy``: the noisy raw itself;
- ``ours (denoise-raw)``: the shipped raw model, through the same path as ``python -m denoise.infer shot.dng``
  (its default self-ensemble of Bayer-preserving views, :mod:`denoise.raw.views`);
- ``ours (denoise-raw) single view``: the same with ``--ensemble 1``, half the time;
- ``--candidate FILE``: a raw checkpoint that does not ship, in the same two rows named by its file;
- ``PMRID``: the authors' pretrained network (``--pmrid``), its k-sigma transform fed our profile;
- ``PMRID with our 2 views``: the same averaged over our default Bayer-preserving views, like for like;
- ``BM3D + VST``: BM3D per plane after the generalised Anscombe transform, exact unbiased inverse;
- ``ours (sRGB blind) after rendering``: the noisy raw rendered first, then what ``python -m denoise.infer
  photo.png`` does with no ``--sigma`` (scored after rendering only).

Seconds per megapixel of mosaic are the wall time of each call, timed in this run on this machine with its
``--threads``. Writes ``results/leaderboard_raw.md`` and the per-image rows to ``results/leaderboard_raw.csv``.
"""

from __future__ import annotations

import argparse
import csv
import functools
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from denoise import Denoiser
from denoise.baselines.peers import peer_unavailable
from denoise.baselines.pmrid import load_pmrid, pmrid_denoise
from denoise.baselines.vst import bm3d_vst_denoise
from denoise.checkpoint import CheckpointError
from denoise.data.images import list_images, read_uint8
from denoise.data.raw_synthesis import render, rendered8, seeded_synthetic_raw
from denoise.data.registry import resolve_folder
from denoise.data.validation import central_crop, even_crop, to_batch
from denoise.infer import noise_level
from denoise.metrics import psnr, raw_psnr, to_uint8
from denoise.models.registry import RAW_PLANES
from denoise.protocol import image_seed
from denoise.raw.noise_profile import NoiseProfile
from denoise.raw.pipeline import denoise_planes, shipped_raw_function
from denoise.raw.views import RAW_ENSEMBLE, RAW_VIEWS, bayer_dihedral, bayer_dihedral_inverse
from denoise.transforms.dihedral import ensemble_mean
from denoise.utils.machine import machine_description
from denoise_lab.profile import gmacs_per_megapixel
from denoise_lab.tables import publish, write_csv

DEFAULT_PMRID = Path(__file__).resolve().parents[2].parent / "shared/models/PMRID/torch_pretrained.ckp"
RawMethod = Callable[[np.ndarray, float, float], np.ndarray]  # (planes (4, H, W), shot, read) -> planes
PMRID_VIEWS = f"PMRID with our {RAW_ENSEMBLE} views"


def _ours(planes: np.ndarray, shot: float, read: float, network, views: tuple[int, ...]) -> np.ndarray:
    return denoise_planes(planes, NoiseProfile(shot, read), network, views=views)


def _with_views(method: RawMethod, views: tuple[int, ...]) -> RawMethod:
    """``method`` averaged over the Bayer-preserving ``views`` (:mod:`denoise.raw.views`), as ours is."""

    def ensembled(planes: np.ndarray, shot: float, read: float) -> np.ndarray:
        def one_view(view: torch.Tensor, extra: None) -> torch.Tensor:
            return torch.from_numpy(method(view[0].numpy(), shot, read))[None]

        tensor = torch.from_numpy(np.ascontiguousarray(planes, dtype=np.float32))[None]
        return ensemble_mean(one_view, tensor, views, None, bayer_dihedral, bayer_dihedral_inverse)[0].numpy()

    return ensembled


def _network_rows(name: str, network) -> tuple[dict[str, RawMethod], dict[str, float]]:
    """A raw network's two rows, ``name`` with the default views and ``name single view``, and their GMACs/MP."""
    one_pass = gmacs_per_megapixel(network.model, RAW_PLANES) / RAW_PLANES
    rows = {name: RAW_VIEWS, f"{name} single view": (0,)}
    methods = {row: functools.partial(_ours, network=network, views=views) for row, views in rows.items()}
    return methods, {row: one_pass * len(views) for row, views in rows.items()}


def raw_methods(
    pmrid_weights: Path, candidates: tuple[Path, ...] = ()
) -> tuple[dict[str, RawMethod], list[str], dict[str, float]]:
    """The methods that denoise the raw planes, the reasons of those that cannot run, and the networks'
    multiply-accumulates per megapixel of mosaic (in 1e9, :func:`~denoise_lab.profile.gmacs_per_megapixel`).

    ``candidates``: raw checkpoints that do not ship (e.g. a narrower network in training), two rows each named
    by the file, beside the shipped model's; a missing or unreadable one raises CheckpointError, one that is not
    a raw (4-plane) network ValueError.
    """
    methods: dict[str, RawMethod] = {"noisy": lambda planes, shot, read: planes}
    skipped, gmacs = [], {}
    try:
        network, _ = shipped_raw_function("cpu")
        own, own_gmacs = _network_rows("ours (denoise-raw)", network)
        methods, gmacs = methods | own, gmacs | own_gmacs
    except CheckpointError as error:
        skipped.append(f"ours (denoise-raw): {error}")
    for path in candidates:
        network = Denoiser.from_checkpoint(str(path), device="cpu").function_for(RAW_PLANES)
        own, own_gmacs = _network_rows(path.name, network)
        methods, gmacs = methods | own, gmacs | own_gmacs
    if pmrid_weights.is_file():
        methods["PMRID"] = functools.partial(pmrid_denoise, weights=str(pmrid_weights))
        methods[PMRID_VIEWS] = _with_views(methods["PMRID"], RAW_VIEWS)
        gmacs["PMRID"] = gmacs_per_megapixel(load_pmrid(str(pmrid_weights)), RAW_PLANES, sigma=False) / RAW_PLANES
        gmacs[PMRID_VIEWS] = gmacs["PMRID"] * RAW_ENSEMBLE
    else:
        skipped.append(f"PMRID: its weights {pmrid_weights} are missing (--pmrid)")
    reason = peer_unavailable("bm3d")
    if reason is None:
        methods["BM3D + VST"] = bm3d_vst_denoise
    else:
        skipped.append(f"BM3D + VST: {reason}")
    return methods, skipped, gmacs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.leaderboard.raw", description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="Kodak24,McMaster", help="registered colour sets or folders")
    parser.add_argument("--isos", default="400,1600,6400,25600", help="ISO levels of the stated noise model")
    parser.add_argument("--crop", type=int, default=256, help="central square of each image, in sRGB pixels")
    parser.add_argument("--limit", type=int, help="only the first N images of each set")
    parser.add_argument("--methods", help="comma-separated subset of the method names (default: all)")
    parser.add_argument("--pmrid", type=Path, default=DEFAULT_PMRID, help="PMRID's torch_pretrained.ckp")
    parser.add_argument("--candidate", type=Path, action="append", default=[], metavar="CHECKPOINT",
                        help="a raw checkpoint that does not ship, scored and timed beside the rest")  # fmt: skip
    parser.add_argument("--threads", type=int, default=None, help="CPU threads")
    parser.add_argument("--out", type=Path, default=Path("results/leaderboard_raw.md"))
    parser.add_argument(
        "--merge", action="store_true",
        help="keep the rows of methods not run now from the existing CSV (same sets, ISOs and crop), e.g. to "
        "rescore one model without running BM3D again; their seconds are from their own run",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    isos = [float(value) for value in args.isos.split(",")]
    try:
        sets = {name: list_images(resolve_folder(name))[: args.limit] for name in args.datasets.split(",")}
        blind = Denoiser.from_checkpoint(None, device="cpu")
        methods, skipped, gmacs = raw_methods(args.pmrid, tuple(args.candidate))
    except (FileNotFoundError, CheckpointError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.methods:
        wanted = set(args.methods.split(","))
        methods = {name: method for name, method in methods.items() if name in wanted or name == "noisy"}
    rows = []  # (dataset, image, iso, method, raw psnr or nan, rendered psnr, seconds, megapixels)
    for dataset, paths in sets.items():
        for path in tqdm(paths, desc=dataset, unit="image"):
            clean = even_crop(central_crop(read_uint8(path), args.crop))
            srgb = to_batch(clean)
            for iso in isos:
                raw = seeded_synthetic_raw(srgb, iso, image_seed(path))
                reference = rendered8(raw.clean, raw.params)
                noisy, shot, read = raw.noisy[0].numpy(), float(raw.shot), float(raw.read)
                megapixels = clean.shape[0] * clean.shape[1] / 1e6
                for name, method in methods.items():
                    start = time.perf_counter()
                    out = method(noisy, shot, read)
                    seconds = time.perf_counter() - start
                    rendered = rendered8(torch.from_numpy(out)[None], raw.params)
                    score = raw_psnr(raw.clean[0].numpy(), out)
                    rows.append((dataset, path.name, iso, name, score, psnr(reference, rendered), seconds, megapixels))
                rendered_noisy = render(raw.noisy, raw.params)[0].permute(1, 2, 0).numpy()
                start = time.perf_counter()
                out = blind(rendered_noisy, noise_level(blind, rendered_noisy, None)[0])
                seconds = time.perf_counter() - start
                name = "ours (sRGB blind) after rendering"
                rows.append((dataset, path.name, iso, name, float("nan"), psnr(reference, to_uint8(out)), seconds,
                             megapixels))  # fmt: skip
    kept: list[str] = []
    if args.merge:
        ran = {row[3] for row in rows}
        earlier = read_rows(args.out.with_suffix(".csv"), args.crop)
        earlier = [row for row in earlier if row[3] not in ran and row[0] in sets and row[2] in isos]
        kept = list(dict.fromkeys(row[3] for row in earlier))
        rows = earlier + rows
    lines = report(rows, sets, isos, args, argv, skipped, gmacs)
    if kept:
        lines += [
            "",
            f"Kept from an earlier run with the same settings (`--merge`), and timed there: {', '.join(kept)}.",
        ]
    publish(args.out, lines)
    header = ["dataset", "image", "iso", "method", "raw_psnr", "rendered_psnr", "seconds", "megapixels", "crop"]
    write_csv(args.out.with_suffix(".csv"), header, (
        [*row[:4], f"{row[4]:.4f}", f"{row[5]:.4f}", f"{row[6]:.4f}", f"{row[7]:.6f}", args.crop] for row in rows
    ))  # fmt: skip
    return 0


def read_rows(path: Path, crop: int) -> list[tuple]:
    """The rows of an earlier run's CSV ([] when there is none, or when it used another crop)."""
    if not path.is_file():
        return []
    with path.open() as stream:
        rows = list(csv.DictReader(stream))
    if any(row.get("crop") != str(crop) for row in rows):
        return []
    return [(r["dataset"], r["image"], float(r["iso"]), r["method"], float(r["raw_psnr"]), float(r["rendered_psnr"]),
             float(r["seconds"]), float(r["megapixels"])) for r in rows]  # fmt: skip


def report(
    rows: list[tuple], sets: dict, isos: list[float], args, argv, skipped: list[str], gmacs: dict[str, float]
) -> list[str]:
    """The Markdown table: per set and method, PSNR in linear raw / after rendering at each ISO, s per MP and
    the network's GMACs per MP (``gmacs``, by method; "-" for the others)."""
    command = "python -m denoise_lab.leaderboard.raw " + shlex.join(sys.argv[1:] if argv is None else argv)
    counts = ", ".join(f"{len(paths)} of {name}" for name, paths in sets.items())
    lines = [
        f"Made by `{command}` on {machine_description()}: synthetic raw of the central {args.crop} x {args.crop} "
        f"crop of {counts}, at ISO {', '.join(f'{iso:g}' for iso in isos)}. Each cell is PSNR in dB in linear "
        "raw / after the fixed rendering; s / MP is the wall time of each method's calls per megapixel of mosaic, "
        f"in this run, on {torch.get_num_threads()} CPU thread(s); GMACs / MP the network's multiply-accumulates "
        "per megapixel of mosaic (convolutions, counted by torch's FlopCounterMode).",
    ]
    for dataset in sets:
        lines += ["", f"**{dataset}**", ""]
        lines.append("| method | " + " | ".join(f"ISO {iso:g}" for iso in isos) + " | s / MP | GMACs / MP |")
        lines.append("|---|" + "---:|" * len(isos) + "---:|---:|")
        names = list(dict.fromkeys(row[3] for row in rows if row[0] == dataset))
        mean = {
            (name, iso): (
                np.mean([r[4] for r in rows if r[0] == dataset and r[3] == name and r[2] == iso]),
                np.mean([r[5] for r in rows if r[0] == dataset and r[3] == name and r[2] == iso]),
            )
            for name in names
            for iso in isos
        }
        for name in sorted(names, key=lambda n: -np.mean([mean[(n, iso)][1] for iso in isos])):
            cells = [
                (f"{mean[(name, iso)][0]:.2f}" if np.isfinite(mean[(name, iso)][0]) else "-")
                + f" / {mean[(name, iso)][1]:.2f}"
                for iso in isos
            ]
            timed = [r for r in rows if r[0] == dataset and r[3] == name]
            rate = sum(r[6] for r in timed) / sum(r[7] for r in timed)
            work = f"{gmacs[name]:.1f}" if name in gmacs else "-"
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {rate:.2f} | {work} |")
    if skipped:
        lines += ["", "Not run: " + "; ".join(skipped) + "."]
    return lines


if __name__ == "__main__":
    sys.exit(main())
