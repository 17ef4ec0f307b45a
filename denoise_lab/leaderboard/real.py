"""``python -m denoise_lab.leaderboard.real``: the real-noise table, on pairs of a real noisy photo and its reference.

PolyU100 (``real/PolyU100``): each ``*_real`` photo is one shot, its ``*_mean`` the mean of many shots of the
same static scene. Each method denoises the real photo and is scored by PSNR and SSIM (8-bit, the protocol's
metric code) against the mean. Methods:

- ``noisy``: the real photo itself;
- ``default``: exactly what ``python -m denoise.infer photo.jpg`` does with no ``--sigma`` (the shipped blind
  model when one ships, else the estimated sigma into the Gaussian model);
- ``ffdnet-estimated``, ``ours-estimated``: FFDNet and our Gaussian model at our estimator's sigma (the
  latter is the default before a blind model ships);
- ``ours-oracle``, ``ffdnet-oracle``, ``bilateral-oracle``, ``nlm-oracle``, ``bm3d-oracle``: each at its best
  single sigma for the whole set, chosen on the set itself (a grid of ``--grid`` levels in /255): an upper
  bound for them, tuned on the test data, marked as such.

Writes ``results/leaderboard_real.md`` (and the rows to ``results/leaderboard_real.csv``). ``--merge`` keeps the
rows of the methods not run now from that CSV: ``--oracles "" --merge`` rescores a new blind model beside the
oracles tuned before, which take most of the time. Each oracle's score of each pair at each sigma is appended to
``results/leaderboard_real_cache.jsonl`` as soon as it is computed (keyed by the method's version, as the
standard leaderboard's cache), so a stopped run goes on where it stopped and a wider ``--grid`` computes only
the new sigmas: CBM3D takes about 26 s per pair and sigma on one core, hours for the set.
"""

from __future__ import annotations

import argparse
import csv
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from denoise import Denoiser
from denoise.baselines.bilateral import bilateral_denoise
from denoise.baselines.nlm import nlm_denoise
from denoise.baselines.peers import bm3d_denoise, ffdnet_denoise, peer_unavailable
from denoise.checkpoint import CheckpointError, default_checkpoints
from denoise.data.images import list_images, read_uint8
from denoise.data.registry import resolve_folder
from denoise.infer import noise_level
from denoise.metrics import psnr, ssim, to_uint8
from denoise.noise_estimation import estimate_sigma
from denoise.utils.machine import machine_description
from denoise_lab.leaderboard.cache import ResultCache
from denoise_lab.leaderboard.methods import builtin_methods, checkpoint_method
from denoise_lab.tables import publish, write_csv

Method = Callable[[np.ndarray], np.ndarray]  # float H x W x 3 on [0, 1] -> the same
ORACLES = ("ours", "ffdnet", "bilateral", "nlm", "bm3d")


def pairs(folder: Path, limit: int | None) -> list[tuple[Path, Path]]:
    """(real, mean) file pairs of a PolyU-style folder, sorted by name; the first ``limit``."""
    found = []
    for real in list_images(folder):
        if "_real" in real.stem:
            mean = real.with_name(real.name.replace("_real", "_mean"))
            if mean.is_file():
                found.append((real, mean))
    if not found:
        raise FileNotFoundError(f"{folder} holds no *_real / *_mean pairs")
    return found[:limit] if limit else found


def fixed_sigma_methods(denoiser: Denoiser) -> dict[str, Callable[[np.ndarray, float], np.ndarray]]:
    """The methods an oracle tunes: ``method(noisy, sigma)``."""
    methods = {
        "ours": lambda image, sigma: denoiser(image, sigma),
        "bilateral": bilateral_denoise,
        "nlm": nlm_denoise,
    }
    if peer_unavailable("ffdnet") is None:
        methods["ffdnet"] = ffdnet_denoise
    if peer_unavailable("bm3d") is None:  # CBM3D: about a minute per 512 x 512 photo and sigma on 2 CPU cores
        methods["bm3d"] = bm3d_denoise
    return methods


def detail_kept(reference: np.ndarray, out: np.ndarray, fraction: float = 0.3) -> float:
    """How much of the reference's fine texture the output keeps, in the ``fraction`` of it richest in texture.

    Fine detail is what a Gaussian blur of std 1.5 px removes (from the luma). The score projects the output's
    detail onto the reference's there: 1 when the texture is all kept, 0 when it is smoothed away (skin turned
    to plastic). Noise left in the output is uncorrelated with the reference and does not count.
    """

    def fine(image: np.ndarray) -> np.ndarray:
        luma = image.astype(np.float64)
        luma = luma @ np.array([0.299, 0.587, 0.114]) if luma.ndim == 3 else luma  # grey: the image itself
        return luma - cv2.GaussianBlur(luma, (0, 0), 1.5)

    ref, test = fine(reference), fine(out)
    energy = cv2.GaussianBlur(ref**2, (0, 0), 4.0)
    textured = energy >= np.quantile(energy, 1 - fraction)
    return float(np.sum(test[textured] * ref[textured]) / np.sum(ref[textured] ** 2))


def score_pair(method: Method, noisy: np.ndarray, reference: np.ndarray) -> tuple[float, float, float]:
    """(PSNR, SSIM, detail kept) of ``method`` on one (noisy float, reference uint8) pair."""
    out = to_uint8(method(noisy))
    return psnr(reference, out), ssim(reference, out), detail_kept(reference, out)


def score(method: Method, images: list[tuple[np.ndarray, np.ndarray]], label: str) -> list[tuple[float, ...]]:
    """:func:`score_pair` of ``method`` on each (noisy float, reference uint8) pair."""
    return [
        score_pair(method, noisy, reference) for noisy, reference in tqdm(images, desc=label, unit="pair", leave=False)
    ]


def cached_score(
    method: Method,
    images: list[tuple[np.ndarray, np.ndarray]],
    names: list[str],
    cache: ResultCache,
    key: str,
    label: str,
) -> list[tuple[float, ...]]:
    """:func:`score`, each pair's result looked up in ``cache`` under ``key`` (``name-version|set|sigma``) and
    the pair's name, and appended to it when computed, so a stopped run loses at most one pair."""
    results = []
    for (noisy, reference), name in zip(tqdm(images, desc=label, unit="pair", leave=False), names, strict=True):
        row = cache.get(f"{key}|{name}")
        if row is None:
            values = score_pair(method, noisy, reference)
            row = {"key": f"{key}|{name}", "method": label.split()[0], "values": list(values)}
            cache.add(row)
        results.append(tuple(row["values"]))
    return results


def oracle_keys(checkpoint: Path | None, channels: int) -> dict[str, str]:
    """The version key of each method an oracle tunes; ours is the Gaussian model's file (``checkpoint``, or the
    shipped one of ``channels``), so a new one is scored anew."""
    keys = {name: method.key for name, method in builtin_methods().items()}
    ours = checkpoint or default_checkpoints().get(channels)
    keys["ours"] = checkpoint_method(ours).key if ours else "ours-missing"
    return keys


def family(row_name: str) -> str:
    """The method a row belongs to, whatever sigma an oracle chose: ``"ffdnet, oracle sigma 12/255 ..."`` ->
    ``"ffdnet"``; other names are their own family."""
    return row_name.split(", oracle sigma")[0]


def earlier_rows(path: Path, pair_names: list[str]) -> dict[str, list[tuple[float, float, float]]]:
    """An earlier run's rows (method -> (PSNR, SSIM, detail kept) per pair, in ``pair_names``' order) from its CSV;
    {} when there is none. Raises ValueError when it scored other pairs."""
    if not path.is_file():
        return {}
    by_method: dict[str, dict[str, tuple[float, float, float]]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            values = (float(row["psnr"]), float(row["ssim"]), float(row["detail_kept"]))
            by_method.setdefault(row["method"], {})[row["pair"]] = values
    for method, scored in by_method.items():
        if set(scored) != set(pair_names):
            raise ValueError(
                f"{path} scored other pairs than these {len(pair_names)} for {method!r}: run without --merge"
            )
    return {method: [scored[name] for name in pair_names] for method, scored in by_method.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.leaderboard.real", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="PolyU100", help="registered set name or folder of pairs")
    parser.add_argument("--limit", type=int, help="use only the first N pairs")
    parser.add_argument(
        "--grey", action="store_true", help="score the pairs' luma (BT.601), as grey photos: the grey models' table"
    )
    parser.add_argument("--grid", default="2,4,6,8,10,14", help="oracle sigmas in 8-bit units (/255)")
    parser.add_argument(
        "--oracles", default=",".join(ORACLES), help='methods tuned at their best single sigma ("" for none)'
    )
    parser.add_argument("--checkpoint", type=Path, help="denoise checkpoint for ours (default: the shipped models)")
    parser.add_argument("--out", type=Path, default=Path("results/leaderboard_real.md"))
    parser.add_argument(
        "--merge", action="store_true",
        help="keep the rows of methods not run now from the existing CSV (the same pairs), e.g. to rescore a new "
        "blind model without tuning every oracle again",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        found = pairs(resolve_folder(args.dataset), args.limit)
        # read before any scoring, so that a CSV of other pairs is refused at once, not after an hour
        earlier = earlier_rows(args.out.with_suffix(".csv"), [real.name for real, _ in found]) if args.merge else {}
        denoiser = Denoiser.from_checkpoint(str(args.checkpoint) if args.checkpoint else None, device="cpu")
    except (FileNotFoundError, CheckpointError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    grid = [float(value) for value in args.grid.split(",")]
    images = [
        (read_uint8(real, grey=args.grey).astype(np.float32) / 255, read_uint8(mean, grey=args.grey))
        for real, mean in found
    ]
    channels = 1 if args.grey else 3
    default_level = "its blind model" if denoiser.is_blind(channels) else "the estimated sigma"

    def default(noisy: np.ndarray) -> np.ndarray:  # what the CLI does without --sigma
        return denoiser(noisy, noise_level(denoiser, noisy, None)[0])

    rows: dict[str, list[tuple[float, float]]] = {
        "noisy": score(lambda image: image, images, "noisy"),
        f"default (python -m denoise.infer, no --sigma: {default_level})": score(default, images, "default"),
    }
    tunable = fixed_sigma_methods(denoiser)
    if denoiser.is_blind(channels):
        rows["ours (Gaussian model) at our estimated sigma"] = score(
            lambda x: denoiser(x, estimate_sigma(x)), images, "ours-estimated"
        )
    if "ffdnet" in tunable:
        rows["ffdnet at our estimated sigma"] = score(lambda x: ffdnet_denoise(x, estimate_sigma(x)), images, "ffdnet")
    oracle_sigmas = {}
    oracles = [name for name in args.oracles.split(",") if name]
    cache = ResultCache(args.out.with_name(args.out.stem + "_cache.jsonl"))
    keys = oracle_keys(args.checkpoint, channels) if oracles else {}
    names = [real.name for real, _ in found]
    for name in [name for name in oracles if name in tunable]:
        by_sigma = {
            s: cached_score(
                lambda x, s=s, f=tunable[name]: f(x, s / 255), images, names, cache,
                f"{keys[name]}|{args.dataset}{'-grey' if args.grey else ''}|{s:g}", f"{name} {s:g}",
            )
            for s in grid
        }  # fmt: skip
        best = max(by_sigma, key=lambda s: np.mean([row[0] for row in by_sigma[s]]))
        oracle_sigmas[name] = best
        searched = ", ".join(f"{s:g}" for s in grid)
        rows[f"{name}, oracle sigma {best:g}/255 of {searched} (tuned on this set)"] = by_sigma[best]
    ran = {family(name) for name in rows}
    kept = [name for name in earlier if family(name) not in ran]
    rows.update({name: earlier[name] for name in kept})
    command = "python -m denoise_lab.leaderboard.real " + shlex.join(sys.argv[1:] if argv is None else argv)
    lines = [
        f"Made by `{command}` on {machine_description()}: {len(found)} real noisy photos of {args.dataset}"
        f"{' in grey (their luma)' if args.grey else ''}, each "
        "scored against the mean of many shots of its scene (PSNR in dB / SSIM, 8-bit). An oracle row is the "
        "method at its best single sigma for the whole set, of the sigmas (/255) the row lists, chosen on this "
        "set: an upper bound for it, not a fair rival. Detail kept: the share of the reference's "
        "fine texture (what a blur of 1.5 px removes, in its most textured 30 %) that the output keeps, 100 % for "
        "all of it and 0 % for texture smoothed flat (`detail_kept`).",
        "",
        "| method | PSNR | SSIM | vs noisy | detail kept |",
        "|---|---:|---:|---:|---:|",
    ]
    noisy_psnr = np.mean([row[0] for row in rows["noisy"]])
    for name, values in sorted(rows.items(), key=lambda item: -np.mean([row[0] for row in item[1]])):
        mean_psnr, mean_ssim, detail = np.mean(values, axis=0)
        lines.append(f"| {name} | {mean_psnr:.2f} | {mean_ssim:.4f} | {mean_psnr - noisy_psnr:+.2f} | {detail:.0%} |")
    skipped = [name for name in oracles if name not in tunable]
    if skipped:
        lines += ["", f"Not run: {', '.join(skipped)} (its package is missing, or unknown)."]
    if kept:
        lines += ["", f"Kept from an earlier run on the same pairs (`--merge`): {'; '.join(kept)}."]
    publish(args.out, lines)
    write_csv(args.out.with_suffix(".csv"), ["method", "pair", "psnr", "ssim", "detail_kept"], (
        [name, real.name, f"{value:.4f}", f"{structure:.5f}", f"{detail:.4f}"]
        for name, values in rows.items()
        for (real, _), (value, structure, detail) in zip(found, values, strict=True)
    ))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
