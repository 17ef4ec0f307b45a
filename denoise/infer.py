"""``python -m denoise.infer INPUT... [--sigma S | --sigma-map MAP]``: denoise image files at full resolution.

Without ``--sigma`` the noise level of each image is estimated (and printed); ``--sigma-map`` gives a
per-pixel level; ``--sigma255`` is ``--sigma`` in 8-bit units; ``--strength`` scales whichever is used.

Inputs are files, folders (their images) or glob patterns; a pattern without a folder of its own right after a
folder is matched inside it (``shots/ '*.tif'`` is ``shots/*.tif``). Outputs go to ``<stem>_denoised.<ext>`` beside
each input, or to ``-o`` (a file for one input, else a folder). Inputs are never modified or overwritten;
an existing output is kept unless ``--overwrite``. Bit depth, grey/colour, alpha, orientation and ICC
profile are kept. A camera raw file (``.dng``, ``.cr2``, ``.nef``, ``.arw``, ...) is denoised as its Bayer
mosaic by the raw model and written as a DNG (``--iso`` sets its noise; default: the file's noise profile or
an estimate). Exit code 0 when every image was written, 1 when only some were, 2 when none or on a
usage error; every error is one line on stderr.
"""

from __future__ import annotations

import argparse
import glob
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from denoise.checkpoint import CheckpointError
from denoise.denoiser import BLIND_ENSEMBLE, METHODS, Denoiser, ensemble_views
from denoise.io import READ_SUFFIXES, ImageFileError, read_image, write_image
from denoise.models.registry import RAW_PLANES
from denoise.precision import PRECISIONS
from denoise.raw.dng import RAW_SUFFIXES
from denoise.raw.noise_profile import NoiseProfile
from denoise.raw.pipeline import denoise_raw_file
from denoise.raw.views import RAW_ENSEMBLE
from denoise.sigma import NoiseLevel, parse_strength, sigma_from_255
from denoise.tiling import DEFAULT_OVERLAP, check_tile
from denoise.transforms.dihedral import ENSEMBLE_SIZES

EXIT_OK, EXIT_PARTIAL, EXIT_FAILED = 0, 1, 2
INPUT_SUFFIXES = (*READ_SUFFIXES, *RAW_SUFFIXES)


class UsageError(Exception):
    """A problem with the command line; the message says what to do."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m denoise.infer", description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or glob patterns")
    parser.add_argument("-o", "--output", type=Path, help="output file (one input) or folder")
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("--sigma", type=float, help="noise std on the [0, 1] scale (0.1 ~ 25.5/255); default: estimated")
    noise.add_argument("--sigma255", type=float, metavar="S", help="the same in 8-bit units: --sigma255 25 is 25/255")
    noise.add_argument("--sigma-map", type=Path, help="per-pixel sigma: a grey image (value = sigma) or a .npy array")
    parser.add_argument("--strength", type=float, default=1.0, help="scale sigma: < 1 keeps detail, > 1 removes more")
    parser.add_argument(
        "--iso", type=float, help="camera raw: the noise of this ISO (default: the file's noise profile, or estimated)"
    )
    parser.add_argument("--method", choices=sorted(METHODS), help="a classical method instead of the network")
    parser.add_argument("--checkpoint", type=Path, help="a denoise checkpoint (default: the shipped models)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="default: auto")
    parser.add_argument(
        "--backend", default="torch", choices=["torch", "onnxruntime"],
        help="onnxruntime runs an exported model (--checkpoint model.onnx, see python -m denoise.export)",
    )  # fmt: skip
    parser.add_argument(
        "--tile", type=int, help="longest tile edge, a multiple of 32 (default: the shape with least work in memory)"
    )
    parser.add_argument(
        "--overlap", type=int, default=DEFAULT_OVERLAP, help=f"tile overlap (default {DEFAULT_OVERLAP})"
    )
    parser.add_argument(
        "--ensemble", type=int, nargs="?", const=8, choices=ENSEMBLE_SIZES, metavar="N",
        help="average N flips/rotations, 1, 2, 4 or 8 (N times slower; --ensemble alone: 8). "
        f"Default: {BLIND_ENSEMBLE} without a noise level (the blind model), {RAW_ENSEMBLE} for a camera raw file "
        "(Bayer-preserving flips), 1 with a noise level",
    )  # fmt: skip
    parser.add_argument(
        "--precision", default="float32", choices=sorted(PRECISIONS),
        help="bfloat16: convolutions in bfloat16, about twice as fast on CPUs with AVX512-BF16 or AMX, slightly "
        "less accurate (refused where it would be emulated). Default: float32",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or summary")
    return parser


def _inside_folder(patterns: list[str]) -> list[str]:
    """The inputs with each ``FOLDER PATTERN`` pair joined into ``FOLDER/PATTERN``.

    A glob pattern with no folder of its own (``'*.tif'``) that follows a folder selects files of that folder.
    """
    joined: list[str] = []
    for pattern in patterns:
        bare_glob = glob.has_magic(pattern) and Path(pattern).name == pattern and not Path(pattern).exists()
        if bare_glob and joined and Path(joined[-1]).is_dir() and not glob.has_magic(joined[-1]):
            joined[-1] = str(Path(joined[-1]) / pattern)
        else:
            joined.append(pattern)
    return joined


def expand_inputs(patterns: list[str]) -> list[Path]:
    """Files, folder contents and glob matches, in order, without duplicates."""
    found: list[Path] = []
    for pattern in _inside_folder(patterns):
        path = Path(pattern)
        if path.is_dir():
            images = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
            if not images:
                raise UsageError(f"{path}: folder holds no images ({', '.join(INPUT_SUFFIXES)})")
            found += images
        elif path.exists():
            found.append(path)
        elif glob.has_magic(pattern):
            matches = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
            if not matches:
                raise UsageError(f"{pattern}: no file matches this pattern")
            found += matches
        else:
            raise UsageError(f"{path}: no such file or folder")
    return list(dict.fromkeys(found))


def plan_outputs(inputs: list[Path], output: Path | None) -> list[Path]:
    """Output path of each input (see the module docstring)."""
    written = (*READ_SUFFIXES, ".dng")
    if output is not None and output.suffix and output.suffix.lower() not in written and not output.is_dir():
        raise UsageError(
            f"-o {output}: {output.suffix} is not a supported format ({', '.join(written)}); "
            "for a folder, create it first or give a name without an extension"
        )
    if output is not None and output.suffix.lower() in written and not output.is_dir():
        if len(inputs) > 1:
            raise UsageError(f"-o {output} names one file, but there are {len(inputs)} inputs: give a folder")
        return [output]
    folder_for = (lambda path: output) if output is not None else (lambda path: path.parent)
    return [folder_for(path) / f"{path.stem}_denoised{_output_suffix(path)}" for path in inputs]


def _output_suffix(path: Path) -> str:
    """An image keeps its format; a camera raw becomes a DNG."""
    return ".dng" if path.suffix.lower() in RAW_SUFFIXES else path.suffix


def make_denoiser(args: argparse.Namespace) -> Denoiser:
    if args.method and args.checkpoint:
        raise UsageError("--method and --checkpoint exclude each other: choose one")
    if args.tile is not None:
        check_tile(args.tile, args.overlap)
    is_onnx = args.checkpoint is not None and args.checkpoint.suffix == ".onnx"
    if args.precision != "float32" and (args.method or args.backend == "onnxruntime" or is_onnx):
        raise UsageError(f"--precision {args.precision} is for the torch networks, not for "
                         f"{args.method or 'an ONNX model'}: leave it out")  # fmt: skip
    if args.method:
        return Denoiser.from_method(args.method, device=args.device)
    if args.backend == "onnxruntime" or is_onnx:
        if not is_onnx:
            raise UsageError("--backend onnxruntime runs an exported model: give --checkpoint MODEL.onnx "
                             "(export one with python -m denoise.export)")  # fmt: skip
        return Denoiser.from_onnx(str(args.checkpoint), tile=args.tile, overlap=args.overlap, threads=args.threads)
    path = str(args.checkpoint) if args.checkpoint else None
    return Denoiser.from_checkpoint(
        path, device=args.device, tile=args.tile, overlap=args.overlap, precision=args.precision
    )


def read_sigma_map(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """A per-pixel sigma map H x W from a grey image or a .npy file (its values are checked by NoiseLevel)."""
    if path.suffix.lower() == ".npy":
        try:
            values = np.load(path)
        except (OSError, ValueError) as error:
            raise UsageError(f"--sigma-map {path}: cannot read ({error})") from None
    else:
        sigma_image = read_image(path)
        if sigma_image.pixels.ndim != 2:
            raise UsageError(f"--sigma-map {path}: must be a grey image (its value is sigma on the [0, 1] scale)")
        values = sigma_image.to_float()
    values = np.asarray(values, dtype=np.float32)
    if values.shape != shape:
        raise ValueError(f"--sigma-map {path} is {values.shape[1]}x{values.shape[0]}, the image {shape[1]}x{shape[0]}")
    return values


def noise_level(
    denoiser: Denoiser,
    noisy: np.ndarray,
    given: NoiseLevel | None,
    sigma_map: Path | None = None,
    strength: float = 1.0,
) -> tuple[NoiseLevel, float | None]:
    """The level to denoise ``noisy`` with: the one given, from the map, or estimated; strength applied once.

    Returns the level and, when it was estimated, the estimate itself (before the strength).
    """
    if given is not None:
        return given, None
    if sigma_map is not None:
        return NoiseLevel.of(read_sigma_map(sigma_map, noisy.shape[:2]), noisy.shape, strength), None
    if denoiser.is_blind(noisy.shape[2] if noisy.ndim == 3 else 1):  # a blind network finds the level itself
        return NoiseLevel.estimated(strength), None
    estimated = denoiser.estimate_sigma(noisy)
    return NoiseLevel.of(min(estimated, 1.0), strength=strength), estimated


def denoise_image_file(
    denoiser: Denoiser,
    source: Path,
    target: Path,
    given: NoiseLevel | None = None,
    sigma_map: Path | None = None,
    strength: float = 1.0,
    ensemble: bool | int | None = None,
    progress: Callable[[int], None] | None = None,
    on_estimate: Callable[[float], None] | None = None,
) -> float:
    """Denoise the image file ``source`` into ``target``, keeping its depth, alpha and profile; its megapixels.

    The one path from a file to a denoised file: the command line and the web app both call it, so their
    outputs are the same bytes for the same settings. ``given`` is a checked level; without it (and without
    ``sigma_map``) the level is estimated and passed to ``on_estimate`` (a blind model's mean estimate, after
    it ran).
    """
    image = read_image(source)
    noisy = image.to_float()
    level, estimated = noise_level(denoiser, noisy, given, sigma_map, strength)
    if estimated is not None and on_estimate is not None:
        on_estimate(estimated)
    result = denoiser(noisy, level, ensemble=ensemble, progress=progress)
    if level.blind and on_estimate is not None:
        blind = denoiser.blind_estimate(noisy.shape[2] if noisy.ndim == 3 else 1)
        if blind is not None:
            on_estimate(blind)
    write_image(target, image.with_pixels_from_float(result))
    return image.pixels.shape[0] * image.pixels.shape[1] / 1e6


def denoise_file(denoiser: Denoiser, source: Path, target: Path, args, show_tiles: bool, given=None) -> float:
    """The command line's :func:`denoise_image_file` (or :func:`denoise_raw` for a camera raw): its options, a
    tile progress bar, the estimate printed."""
    if source.suffix.lower() in RAW_SUFFIXES:
        return denoise_raw(denoiser, source, target, args, show_tiles)

    def report(estimated: float) -> None:
        if not args.quiet:
            print(f"{source}: estimated sigma {estimated:.4f} ({estimated * 255:.1f}/255)", file=sys.stderr)

    bar = tqdm(desc=source.name, unit="tile", leave=False, disable=not show_tiles)
    try:
        return denoise_image_file(
            denoiser, source, target, given, args.sigma_map, args.strength, args.ensemble, bar.update, report
        )
    finally:
        bar.close()


def denoise_raw(denoiser: Denoiser, source: Path, target: Path, args, show_tiles: bool) -> float:
    """A camera raw file to a DNG with the raw model (:mod:`denoise.raw.pipeline`)."""
    if args.sigma is not None or args.sigma255 is not None or args.sigma_map is not None:
        raise UsageError(
            f"{source}: a raw file's noise comes from its noise profile; give --iso or nothing, not a sigma"
        )
    try:
        function = denoiser.function_for(RAW_PLANES, use=True)
    except ValueError:
        raise UsageError(
            f"{source}: {denoiser.name} has no raw model; run without --checkpoint/--method to use the shipped "
            "denoise-raw.pt, or give --checkpoint a model trained with `make train EXPERIMENT=raw`"
        ) from None

    def report(profile: NoiseProfile) -> None:
        if not args.quiet:
            print(f"{source}: noise from {profile.source} (shot {profile.shot:.3g}, read {profile.read:.3g})",
                  file=sys.stderr)  # fmt: skip

    bar = tqdm(desc=source.name, unit="tile", leave=False, disable=not show_tiles)
    try:
        views = ensemble_views(args.ensemble, RAW_ENSEMBLE)
        return denoise_raw_file(
            source, target, function, args.strength, args.iso, bar.update, report, denoiser.device, views
        )
    finally:
        bar.close()


def given_level(args: argparse.Namespace) -> NoiseLevel | None:
    """The command line's own noise level, checked once here with --strength applied; None to estimate or map."""
    try:
        parse_strength(args.strength)
    except ValueError:
        raise UsageError(f"--strength must be a positive number, got {args.strength}") from None
    sigma = sigma_from_255(args.sigma255) if args.sigma255 is not None else args.sigma
    return None if sigma is None else NoiseLevel.of(sigma, strength=args.strength)


def run(args: argparse.Namespace) -> int:
    given = given_level(args)
    if args.threads is not None:
        if args.threads < 1:
            raise UsageError(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    inputs = expand_inputs(args.inputs)
    targets = plan_outputs(inputs, args.output)
    resolved_inputs = {path.resolve() for path in inputs}
    denoiser = make_denoiser(args)

    interactive = sys.stderr.isatty() and not args.quiet
    start, megapixels, written, failed = time.perf_counter(), 0.0, 0, 0
    for source, target in tqdm(list(zip(inputs, targets, strict=True)), unit="image", disable=not interactive):
        if target.resolve() in resolved_inputs:
            print(f"error: {target}: output would overwrite an input; choose another -o", file=sys.stderr)
            failed += 1
            continue
        if target.exists() and not args.overwrite:
            print(f"skipped: {target} exists (use --overwrite to replace it)", file=sys.stderr)
            continue
        try:
            megapixels += denoise_file(denoiser, source, target, args, interactive, given)
            written += 1
        except (ImageFileError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
    seconds = time.perf_counter() - start
    if written and not args.quiet:
        rate = f" ({seconds / megapixels:.2f} s/MP)" if megapixels else ""
        print(
            f"denoised {written} image(s), {megapixels:.2f} MP in {seconds:.1f} s{rate} with {denoiser.used_name}"
            + (f"; {failed} failed" if failed else ""),
            file=sys.stderr,
        )
    if failed:
        return EXIT_PARTIAL if written else EXIT_FAILED
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(format="warning: %(message)s", level=logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (UsageError, CheckpointError, ImageFileError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
