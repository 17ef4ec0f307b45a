"""OpenCV non-local means with its filter strength ``h`` tuned per noise level.

``cv2.fastNlMeansDenoising[Colored]`` works on uint8 images, so the noisy input is clipped and rounded to
8 bits first (part of this method, not of the protocol). ``h`` (and ``hColor``) come from sigma through
``nlm_table.json``, written by ``python -m denoise_lab.tune_nlm --train DIR`` (a grid search of h / sigma
on training images under the protocol, like the bilateral table).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from denoise.metrics import to_uint8

TABLE_FILE = "nlm_table.json"


@functools.lru_cache(maxsize=2)
def load_table(path: str | None = None) -> tuple[dict, ...]:
    source = Path(path) if path else resources.files("denoise.baselines").joinpath(TABLE_FILE)
    return tuple(sorted(json.loads(source.read_text())["rows"], key=lambda row: row["sigma255"]))


def h_ratio(sigma: float, table: tuple[dict, ...] | None = None) -> float:
    """h / sigma for ``sigma`` (on [0, 1]) from the table, linear between rows, clamped outside."""
    rows = table or load_table()
    levels = [row["sigma255"] for row in rows]
    return float(np.interp(sigma * 255, levels, [row["h_ratio"] for row in rows]))


def nlm_denoise(noisy: np.ndarray, sigma: float, ratio: float | None = None) -> np.ndarray:
    """Non-local means; float32 H x W [x 3] on [0, 1] in and out (the filter itself works on uint8)."""
    h = (ratio if ratio is not None else h_ratio(sigma)) * sigma * 255
    image8 = to_uint8(noisy)
    if image8.ndim == 2:
        result = cv2.fastNlMeansDenoising(image8, None, h, 7, 21)
    else:
        result = cv2.fastNlMeansDenoisingColored(image8, None, h, h, 7, 21)
    return result.astype(np.float32) / 255.0
