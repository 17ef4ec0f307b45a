"""List and read the images of a data-set folder as uint8 arrays (RGB or grey)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def data_root() -> Path:
    """Where named sets live, laid out as ``train/NAME``, ``test/NAME``, ``real/NAME``.

    ``$DENOISE_DATA_DIR`` if set (e.g. a local mirror), else ``data/`` in the working directory.
    """
    return Path(os.environ.get("DENOISE_DATA_DIR", "data"))


def list_images(folder: str | os.PathLike) -> list[Path]:
    """The image files directly inside ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder} does not exist: fetch the data set or pass another folder")
    images = sorted(path for path in folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    return images


def read_uint8(path: str | os.PathLike, grey: bool = False) -> np.ndarray:
    """Read an 8-bit image: H x W x 3 RGB, or H x W when ``grey`` (converted with OpenCV's BT.601 weights)."""
    flag = cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR
    image = cv2.imread(str(path), flag)
    if image is None:
        raise ValueError(f"cannot read {path} as an image")
    return image if grey else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
