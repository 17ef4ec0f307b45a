"""Fetch registered image sets into the data folder: download them, or copy them from a local mirror.

Every file is checked against its recorded SHA-256. Files land in a hidden ``.NAME.partial`` folder first;
only when all of them are verified is it renamed to ``<split>/NAME`` with a ``.complete`` marker, so an
interrupted or corrupted fetch never counts as present (and a later fetch resumes where it stopped).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from denoise.data.registry import ImageSet

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


def _download(url: str, destination: Path) -> None:
    temporary = destination.with_name(destination.name + ".download")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response, temporary.open("wb") as stream:
            shutil.copyfileobj(response, stream, CHUNK_BYTES)
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
        root: the data folder (``train/``, ``test/``, ``real/`` below it).
        mirror: a local folder with the same layout to copy from instead of downloading.
        progress: show a progress bar.
    """
    target = root / image_set.folder
    if is_present(image_set, root):
        return target
    if not image_set.files:
        raise FetchError(
            f"{image_set.name}: its files are not recorded, so it cannot be fetched and verified; put its images in "
            f"{target} yourself or pass the folder's path instead of the name"
        )
    if target.exists():
        raise FetchError(f"{target} exists but was not fetched completely; move it away (or delete it) and fetch again")
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
