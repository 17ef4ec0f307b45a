"""Run methods x data sets x sigmas under the protocol, reusing cached per-image results."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
from tqdm import tqdm

from denoise.data.images import list_images, read_uint8
from denoise.data.registry import get_set, resolve_folder
from denoise.protocol import image_seed, score_image
from denoise_lab.leaderboard.cache import ResultCache, cache_key
from denoise_lab.leaderboard.methods import LeaderboardMethod


@dataclass(frozen=True)
class Benchmark:
    """A data set to evaluate on: its name, folder and whether it is grey."""

    name: str
    folder: Path
    grey: bool


def resolve_benchmark(name_or_path: str) -> Benchmark:
    """A folder (grey when its first image has one channel) or a registered set name."""
    folder = resolve_folder(name_or_path)  # a clear error when neither exists
    if Path(name_or_path).is_dir():
        first = cv2.imread(str(list_images(folder)[0]), cv2.IMREAD_UNCHANGED)
        return Benchmark(folder.name, folder, first is not None and first.ndim == 2)
    image_set = get_set(name_or_path)
    return Benchmark(image_set.name, folder, image_set.grey)


def run(
    methods: list[LeaderboardMethod],
    benchmarks: list[Benchmark],
    sigmas: list[float],
    cache: ResultCache,
    max_images: int | None = None,
    cached_only: bool = False,
    machine: str = "",
    retime: bool = False,
    recompute: bool = False,
) -> tuple[list[dict], list[str], dict[str, int]]:
    """Score every method on every image; returns (result rows, skipped-method notes, images per set).

    Each new row records ``machine``, where its time was taken. With ``cached_only`` nothing is computed:
    results missing from the cache are left out (the report then marks such a method as covering only part of
    the set). With ``retime``, cached rows timed on another machine (or on one not recorded) count as missing: they
    are computed again here (or, with ``cached_only`` too, left out), so every time in the report is comparable.
    With ``recompute``, every row is computed again and replaces its cached one, so the methods are timed side by
    side in this run.
    """
    rows, skipped, set_sizes = [], [], {}
    for benchmark in benchmarks:
        paths = list_images(benchmark.folder)[:max_images] if max_images else list_images(benchmark.folder)
        set_sizes[benchmark.name] = len(paths)
        for method in methods:
            if method.unavailable:
                skipped.append(f"{method.name}: skipped ({method.unavailable})")
                continue
            function, unsupported = None, False
            for path in tqdm(paths, desc=f"{method.name} on {benchmark.name}", unit="image", leave=False):
                clean8 = None  # decoded once per image, only if some sigma is not cached
                for sigma in sigmas:
                    seed = image_seed(path)
                    key = cache_key(method.key, benchmark.name, path.name, sigma, seed)
                    row = None if recompute else cache.get(key)
                    if retime and row is not None and row.get("machine") != machine:
                        row = None  # timed elsewhere: its PSNR would not change, its seconds are not comparable
                    if row is None and cached_only:
                        continue
                    if row is None:
                        function = function or method.build(benchmark.grey)
                        if function is None:
                            unsupported = True
                            break
                        clean8 = read_uint8(path, grey=benchmark.grey) if clean8 is None else clean8
                        score = score_image(function, clean8, sigma, seed)
                        row = {"key": key, "method": method.name, "dataset": benchmark.name, "image": path.name,
                               "sigma": sigma, "seed": seed, "psnr": score.psnr, "ssim": score.ssim,
                               "seconds": score.seconds, "megapixels": score.megapixels,
                               "parameters": method.parameters, "machine": machine}  # fmt: skip
                        cache.add(row)
                    rows.append(row)
                if unsupported:
                    skipped.append(f"{method.name}: skipped on {benchmark.name} (wrong channel count)")
                    break
    return rows, skipped, set_sizes
