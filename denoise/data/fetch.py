"""Fetch registered image sets into the data folder: download them, or copy them from a local mirror.

Every file is checked against its recorded SHA-256. Files land in a hidden ``.NAME.partial`` folder first;
only when all of them are verified is it renamed to ``<split>/NAME`` with a ``.complete`` marker, so an
interrupted or corrupted fetch never counts as present (and a later fetch resumes where it stopped).

A set published as one archive (:class:`~denoise.data.registry.Archive`) is downloaded whole, checked against
its SHA-256 where one is recorded (otherwise the fetch says it could not verify it and prints the checksum it
got), unpacked (zip and tar with the standard library, RAR with ``bsdtar``), and its images counted.
"""

from __future__ import annotations

import hashlib
import http.client
import importlib
import os
import shutil
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
from tqdm import tqdm

from denoise.data.images import IMAGE_SUFFIXES
from denoise.data.registry import ImageSet
from denoise.io import ImageData, ImageFileError, write_image

COMPLETE_MARKER = ".complete"
TIMEOUT_SECONDS = 30
CHUNK_BYTES = 1 << 20


class FetchError(RuntimeError):
    """A set that could not be fetched; the message says why and what to do."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_present(image_set: ImageSet, root: Path) -> bool:
    """True when the set was fetched and verified completely under ``root``."""
    return (root / image_set.folder / COMPLETE_MARKER).is_file()


def _download(url: str, destination: Path, progress: bool = False) -> None:
    temporary = destination.with_name(destination.name + ".download")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response, temporary.open("wb") as stream:
            size = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=size, unit="B", unit_scale=True, desc=destination.name, disable=not progress) as bar:
                for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                    stream.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        temporary.unlink(missing_ok=True)
        reason = getattr(error, "reason", error)
        raise FetchError(
            f"cannot download {url} ({reason}); without network access, copy from a local mirror with "
            "`make data DATA_MIRROR=DIR` (DIR laid out as train/NAME, test/NAME, real/NAME)"
        ) from None
    os.replace(temporary, destination)


def _verify(path: Path, expected: str, origin: str) -> None:
    actual = sha256(path)
    if actual != expected:
        path.unlink()
        raise FetchError(f"{origin}: checksum mismatch (SHA-256 {actual[:12]}..., expected {expected[:12]}...)")


def fetch(image_set: ImageSet, root: Path, mirror: Path | None = None, progress: bool = True) -> Path:
    """Make ``image_set`` present under ``root``; returns its folder.

    Args:
        image_set: a registered set with recorded files.
        root: the data folder (``train/``, ``val/``, ``test/``, ``real/`` below it).
        mirror: a local folder with the same layout to copy from instead of downloading (a set made from a
            package is written from the package, mirror or not).
        progress: show a progress bar.
    """
    target = root / image_set.folder
    if is_present(image_set, root):
        return target
    if image_set.archive is not None:
        return _fetch_archive(image_set, root, mirror, progress)
    if image_set.package:
        return _write_from_package(image_set, root, progress)
    if not image_set.files:
        raise FetchError(
            f"{image_set.name}: its files are not recorded, so it cannot be fetched and verified; put its images in "
            f"{target} yourself or pass the folder's path instead of the name"
        )
    _refuse_stale(target)
    if mirror is None and not image_set.base_url:
        raise FetchError(
            f"{image_set.name} has no download address (its files were made from the sources its registry entry "
            "names); copy it from a local mirror with `make data DATA_MIRROR=DIR`"
        )
    partial = target.with_name(f".{image_set.name}.partial")
    partial.mkdir(parents=True, exist_ok=True)
    source_folder = mirror / image_set.folder if mirror else None
    if source_folder is not None and not source_folder.is_dir():
        raise FetchError(
            f"mirror folder {source_folder} does not exist; check DATA_MIRROR (layout train/NAME, test/NAME)"
        )
    for name, expected in tqdm(sorted(image_set.files.items()), desc=image_set.name, unit="file", disable=not progress):
        destination = partial / name
        if destination.is_file() and sha256(destination) == expected:
            continue  # verified by an earlier, interrupted fetch
        if source_folder is not None:
            source = source_folder / name
            if not source.is_file():
                raise FetchError(f"mirror {source_folder} lacks {name}; the mirror is incomplete")
            shutil.copyfile(source, destination)
            _verify(destination, expected, str(source))
        else:
            url = f"{image_set.base_url}/{name}"
            _download(url, destination)
            _verify(destination, expected, url)
    (partial / COMPLETE_MARKER).write_text("every file verified against its SHA-256\n")
    os.replace(partial, target)
    return target


def _refuse_stale(target: Path) -> None:
    """Refuse a set folder that exists without having been fetched (no ``.complete`` marker was checked yet)."""
    if target.exists():
        raise FetchError(f"{target} exists but was not fetched completely; move it away (or delete it) and fetch again")


def pixels_sha256(image: np.ndarray) -> str:
    """SHA-256 of an image's shape, dtype and pixels (what a package's sample image is recorded by)."""
    image = np.ascontiguousarray(image)
    return hashlib.sha256(f"{image.shape} {image.dtype} ".encode() + image.tobytes()).hexdigest()


def _write_from_package(image_set: ImageSet, root: Path, progress: bool) -> Path:
    """Write a set made of an installed package's sample images as PNG, each checked by its pixels' SHA-256."""
    target = root / image_set.folder
    _refuse_stale(target)
    try:
        module = importlib.import_module(image_set.package)
    except ImportError:
        raise FetchError(f"{image_set.name} is made from {image_set.package}, which is not installed") from None
    partial = target.with_name(f".{image_set.name}.partial")
    partial.mkdir(parents=True, exist_ok=True)
    for name, expected in tqdm(sorted(image_set.files.items()), desc=image_set.name, unit="file", disable=not progress):
        image = getattr(module, Path(name).stem)()
        if pixels_sha256(image) != expected:
            raise FetchError(
                f"{image_set.package}.{Path(name).stem}() gives other pixels than {image_set.name} recorded: this "
                f"version of {image_set.package.split('.')[0]} changed its sample image; install the version the "
                "checksums were recorded with (scikit-image 0.26) or pass a folder of your own"
            )
        try:
            write_image(partial / name, ImageData(image))
        except ImageFileError as error:
            raise FetchError(str(error)) from None
    (partial / COMPLETE_MARKER).write_text(f"every image written from {image_set.package}, its pixels verified\n")
    os.replace(partial, target)
    return target


def _images_below(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES)


def _unpack(archive: Path, into: Path) -> None:
    """Unpack a zip, tar[.gz|.bz2|.xz] or RAR archive into ``into`` (no member may land outside it)."""
    name = archive.name.lower()
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(archive) as bundle:
                for member in bundle.namelist():
                    if Path(member).is_absolute() or ".." in Path(member).parts:
                        raise FetchError(f"{archive.name}: member {member} would land outside the data folder")
                bundle.extractall(into)
        elif ".tar" in name or name.endswith(".tgz"):
            with tarfile.open(archive) as bundle:
                bundle.extractall(into, filter="data")  # refuses absolute paths, .. and links out
        elif name.endswith(".rar"):
            if shutil.which("bsdtar") is None:
                raise FetchError(
                    f"{archive.name} is a RAR archive: install bsdtar (Debian: apt-get install libarchive-tools) "
                    "and fetch again, or unpack it yourself into the set's folder"
                )
            subprocess.run(["bsdtar", "-xf", str(archive), "-C", str(into)], check=True, capture_output=True)
        else:
            raise FetchError(f"{archive.name}: unknown archive type (zip, tar or rar)")
    except (zipfile.BadZipFile, tarfile.TarError, subprocess.CalledProcessError, EOFError) as error:
        raise FetchError(f"{archive.name} is damaged or incomplete ({error}); delete it and fetch again") from None


def _fetch_archive(image_set: ImageSet, root: Path, mirror: Path | None, progress: bool) -> Path:
    """Download (or copy from a mirror), verify where possible and unpack an archive set's images."""
    spec, target = image_set.archive, root / image_set.folder
    _refuse_stale(target)
    partial = target.with_name(f".{image_set.name}.partial")
    partial.mkdir(parents=True, exist_ok=True)
    if mirror is not None:  # a mirror holds the set unpacked, laid out as the data folder
        source = mirror / image_set.folder
        images = _images_below(source) if source.is_dir() else []
        if not images:
            raise FetchError(f"mirror folder {source} holds no images of {image_set.name}; check DATA_MIRROR")
        for path in tqdm(images, desc=image_set.name, unit="file", disable=not progress):
            shutil.copyfile(path, partial / path.name)
        note = f"copied from the mirror {source}"
    else:
        archive = partial / spec.url.rsplit("/", 1)[-1]
        if not archive.is_file():  # an archive left by an interrupted unpacking is used again
            _download(spec.url, archive, progress)
        digest = sha256(archive)
        if spec.sha256 is not None and digest != spec.sha256:
            archive.unlink()
            raise FetchError(
                f"{spec.url}: checksum mismatch (SHA-256 {digest[:12]}..., expected {spec.sha256[:12]}...)"
            )
        if spec.sha256 is None:
            print(
                f"warning: {image_set.name}: no checksum is recorded for {archive.name}, so it could not be verified; "
                f"its SHA-256 is {digest}",
                file=sys.stderr,
            )
        unpacked = partial / ".unpacked"
        shutil.rmtree(unpacked, ignore_errors=True)
        _unpack(archive, unpacked)
        inner = unpacked / spec.inner
        if not inner.is_dir():
            raise FetchError(f"{archive.name} has no folder {spec.inner}: not the archive {image_set.name} expects")
        for path in _images_below(inner):
            os.replace(path, partial / path.name)
        shutil.rmtree(unpacked)
        archive.unlink()
        note = f"unpacked from {spec.url}, SHA-256 {digest}" + ("" if spec.sha256 else " (no recorded checksum)")
    count = len(_images_below(partial))
    if count != spec.images:
        raise FetchError(
            f"{image_set.name}: {count} images, expected {spec.images}; the download or mirror is incomplete"
        )
    (partial / COMPLETE_MARKER).write_text(note + "\n")
    os.replace(partial, target)
    return target
