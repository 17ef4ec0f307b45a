"""``python -m denoise_lab.device_kit``: get a training run onto a lent GPU machine in one call.

A device call (the workplace's ``device`` tool) copies the repository's tracked files, its untracked files that
git does not ignore, and the ignored paths it is told to carry, 64 MiB in all. The tracked tree alone is about
57 MB, most of it the five shipped checkpoints, and the training images (CBSD432 and Wallpapers25) are 75 MB as
the registry stores them: neither fits beside the other. Three steps make a GPU run one call:

- ``pack``: writes ``.devkit/`` (git-ignored): the training sets of a data config, the JPEGs as they are and
  the PNGs as lossless WebP (each decoded back and compared, pixel for pixel), the held-out validation images
  already cut to the central crop the validation takes (the same pixels, the same noise seeds: a seed is the
  file's stem), and the wheels of the Python packages that the device's image lacks;
- ``light``: stops git tracking ``checkpoints/``, ``results/``, ``docs/`` and ``tests/`` and ignores them in
  ``.git/info/exclude``, so they stay here and do not travel (a run that warm-starts carries its one
  checkpoint by name); ``restore`` undoes it, and nothing on disk is touched by either. Never commit between
  the two: the commit would delete those folders from the repository;
- ``size``: what a call would send, in MiB, against the limit.

Then the call runs ``bash denoise_lab/device_train.sh`` with ``carry=[".devkit"]`` (its text says how), and
``restore`` follows it whatever happened.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import yaml

from denoise.data.images import list_images
from denoise.data.registry import resolve_folder
from denoise.data.validation import central_crop

KIT = Path(".devkit")
LIMIT_MIB = 64
HEAVY = ("checkpoints", "results", "docs", "tests")  # what `light` keeps from travelling
MARK = "# denoise_lab.device_kit light"
# Packages `make train` imports that the device's image lacks (its list: the device tool's KINDS.md), for its
# Python 3.12 on x86-64; pip resolves none of their dependencies, so each one needed is named. kornia's own
# kornia_rs (5 MB, for image-file IO, which denoise never calls) is left out to fit the limit: device_train.sh
# puts an empty stand-in in its place.
DEVICE_WHEELS = ("kornia", "jsonargparse", "docstring_parser", "typeshed_client")


class KitError(RuntimeError):
    """A step that cannot be done; the message says what to do."""


def pack_image(source: Path, target_dir: Path, crop: int | None = None) -> Path:
    """Copy one training image into ``target_dir``: a JPEG as it is (unless cropped), anything else as lossless
    WebP; ``crop``: the central ``crop`` x ``crop`` window only (a held-out image, as validation cuts it).
    The written file is decoded and compared with the source's pixels; raises KitError if they differ."""
    target_dir.mkdir(parents=True, exist_ok=True)
    if crop is None and source.suffix.lower() in (".jpg", ".jpeg"):
        target = target_dir / source.name
        shutil.copyfile(source, target)
        return target
    image = cv2.imread(str(source), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise KitError(f"{source}: not an image OpenCV reads")
    image = central_crop(image, crop) if crop else image
    ok, encoded = cv2.imencode(".webp", image, [cv2.IMWRITE_WEBP_QUALITY, 101])  # above 100: lossless
    decoded = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED) if ok else None
    if decoded is None or decoded.shape != image.shape or not np.array_equal(decoded, image):
        raise KitError(f"{source}: its lossless WebP does not decode to the same pixels; keep it as it is")
    target = target_dir / f"{source.stem}.webp"
    target.write_bytes(encoded.tobytes())
    return target


def pack_data(config: Path, out: Path) -> list[Path]:
    """Pack the training sets of data config ``config`` into ``out/train/NAME``: the images it trains on, and
    its held-out images (the last ``holdout[NAME]`` by name) cut to its ``val_crop``. Names keep their stems,
    so their order, the held-out split and the validation noise seeds are the same as here."""
    data = (yaml.safe_load(config.read_text()) or {}).get("data", {})
    holdout, crop = data.get("holdout") or {}, data.get("val_crop")
    written = []
    for name in data.get("train_sets") or []:
        paths = list_images(resolve_folder(name))  # as the data module lists them: the same held-out split
        held = len(paths) - holdout.get(name, 0)
        target = out / "train" / name
        if target.exists():
            shutil.rmtree(target)
        for index, path in enumerate(paths):
            written.append(pack_image(path, target, crop if index >= held else None))
    return written


def download_wheels(out: Path, packages: tuple[str, ...] = DEVICE_WHEELS) -> None:
    """The installed versions of ``packages`` as wheels for the device (CPython 3.12, manylinux x86-64)."""
    from importlib.metadata import version

    out.mkdir(parents=True, exist_ok=True)
    pins = [f"{name}=={version(name)}" for name in packages]
    platforms = [f"--platform=manylinux_2_{n}_x86_64" for n in (17, 24, 27, 28, 31, 34, 35)]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--python-version=3.12", "--implementation=cp", *platforms, "--platform=manylinux2014_x86_64",
               "-d", str(out), *pins]  # fmt: skip
    if subprocess.run(command, check=False).returncode:
        raise KitError(f"pip could not download {', '.join(pins)} (needs the package registry)")


def travel_mib(root: Path, carry: list[str]) -> float:
    """What a device call from ``root`` would send, in MiB: the tracked files, the untracked files git does not
    ignore, and the carried paths."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root, capture_output=True, check=True,
    ).stdout.split(b"\0")  # fmt: skip
    files = {root / name.decode() for name in listed if name}
    for path in carry:
        found = root / path
        files |= set(found.rglob("*")) if found.is_dir() else {found}
    return sum(path.stat().st_size for path in files if path.is_file()) / 2**20


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def light(root: Path) -> None:
    """Untrack ``HEAVY`` and ignore it (files stay on disk); refuses while those folders have changes git would
    lose track of (commit them first). Already light: nothing to do."""
    exclude = root / ".git" / "info" / "exclude"
    lines = exclude.read_text().splitlines() if exclude.is_file() else []
    if MARK in lines:
        return
    changed = subprocess.run(["git", "status", "--porcelain", "--", *HEAVY], cwd=root, capture_output=True,
                             text=True, check=True).stdout  # fmt: skip
    if changed.strip():
        raise KitError(f"commit or stash the changes under {', '.join(HEAVY)} first:\n{changed}")
    exclude.parent.mkdir(parents=True, exist_ok=True)
    exclude.write_text("\n".join([*lines, MARK, *(f"/{name}/" for name in HEAVY)]) + "\n")
    _git(root, "rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", *HEAVY)


def restore(root: Path) -> None:
    """Undo :func:`light`: track ``HEAVY`` again as HEAD has it and drop its ignore lines."""
    exclude = root / ".git" / "info" / "exclude"
    if exclude.is_file():
        lines = exclude.read_text().splitlines()
        if MARK in lines:
            start = lines.index(MARK)
            lines = lines[:start] + lines[start + 1 + len(HEAVY) :]
            exclude.write_text("\n".join(lines) + ("\n" if lines else ""))
    _git(root, "reset", "-q", "--", *HEAVY)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.device_kit", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    pack = commands.add_parser("pack", help=f"write {KIT}/: the training data and the device's missing wheels")
    pack.add_argument("--config", type=Path, default=Path("configs/data/mixture.yaml"), help="a data config")
    pack.add_argument("--out", type=Path, default=KIT)
    pack.add_argument("--no-wheels", action="store_true", help="the data only (no package registry needed)")
    commands.add_parser("light", help=f"stop {', '.join(HEAVY)} from travelling (untracked, ignored)")
    commands.add_parser("restore", help="track them again, as HEAD has them")
    size = commands.add_parser("size", help="what a device call would send, in MiB")
    size.add_argument("--carry", nargs="*", default=[str(KIT)], help="the paths the call carries")
    args = parser.parse_args(argv)
    root = Path.cwd()
    try:
        if args.command == "pack":
            written = pack_data(args.config, args.out / "data")
            if not args.no_wheels:
                download_wheels(args.out / "wheels")
            print(f"wrote {len(written)} images to {args.out / 'data'}; "
                  f"a call carrying {args.out} sends {travel_mib(root, [str(args.out)]):.1f} MiB")  # fmt: skip
        elif args.command == "light":
            light(root)
            print(f"{', '.join(HEAVY)} untracked and ignored; a call now sends {travel_mib(root, []):.1f} MiB "
                  "before what it carries; after the call and before any commit, run "
                  "`python -m denoise_lab.device_kit restore`")  # fmt: skip
        elif args.command == "restore":
            restore(root)
            print(f"{', '.join(HEAVY)} tracked again")
        else:
            mib = travel_mib(root, args.carry)
            print(f"{mib:.1f} MiB of {LIMIT_MIB} ({'fits' if mib <= LIMIT_MIB else 'too much'})")
    except (KitError, FileNotFoundError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
