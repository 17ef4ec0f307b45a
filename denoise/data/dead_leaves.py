"""Synthetic dead-leaves images: occluding shapes of every size and colour, a training source unlike BSD.

The dead-leaves model stacks random shapes, each hiding what lies under it, with radii drawn from a power law
``p(r) ~ r**-3``: the image then has the scale invariance and the sharp occlusion edges of natural images
(Lee, Mumford and Huang 2001), and training denoisers on such images teaches them edges and flat regions without
the content of any one photo collection (Achddou, Gousseau and Ladjal 2021). Colours here are drawn uniformly in
the RGB cube, so strongly saturated edges between any two hues are common: BSD, the project's first training
set, has few of them, and its models smear them (issue "Generalise beyond BSD").

Each image is drawn at twice its size and area-downscaled, so the edges are anti-aliased as a lens and sensor
would make them; a few shapes carry a linear colour ramp instead of a flat colour, and a random Gaussian blur
(depth of field) softens some images. The images are plain uint8 RGB arrays: they join the training images as
they are and get the same crops, symmetries and colour jitter.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

SUPERSAMPLE = 2  # drawn at this multiple of the output size, then area-downscaled (anti-aliasing)
SHAPES = ("disk", "ellipse", "box", "triangle")
COVERAGE = 8  # default shape count: their circles' areas add up to this many canvases


def leaf_radii(count: int, r_min: float, r_max: float, rng: np.random.Generator) -> np.ndarray:
    """``count`` radii with density proportional to ``r**-3`` on [r_min, r_max] (inverse-CDF sampling).

    Returns:
        float64 (count,), every value in [r_min, r_max].
    """
    u = rng.random(count)
    inverse_square = r_min**-2 - u * (r_min**-2 - r_max**-2)
    return inverse_square**-0.5


def _polygon(shape: str, centre: np.ndarray, radius: float, rng: np.random.Generator) -> np.ndarray:
    """Vertices (K, 2) of a rotated box or triangle inscribed in the circle of ``radius`` about ``centre``."""
    angle = rng.uniform(0, 2 * math.pi)
    if shape == "box":
        spread = rng.uniform(0.2, 1.0) * math.pi / 2  # half the angle between the diagonals: aspect ratio
        corners = np.array([spread, math.pi - spread, math.pi + spread, 2 * math.pi - spread])
    else:
        corners = np.sort(rng.uniform(0, 2 * math.pi, 3))
    corners = corners + angle
    return centre + radius * np.stack([np.cos(corners), np.sin(corners)], axis=1)


def _ramp(size: tuple[int, int], first: np.ndarray, second: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A linear ramp from colour ``first`` to ``second`` in a random direction; float32 (H, W, 3) on [0, 255]."""
    height, width = size
    angle = rng.uniform(0, 2 * math.pi)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    along = cols * math.cos(angle) + rows * math.sin(angle)
    along = (along - along.min()) / max(float(along.max() - along.min()), 1.0)
    return first + along[..., None] * (second - first)


def dead_leaves(
    size: int,
    rng: np.random.Generator,
    leaves: int | None = None,
    r_min: float = 1.5,
    r_max: float | None = None,
    ramp_p: float = 0.1,
    blur_p: float = 0.3,
    blur_sigma: tuple[float, float] = (0.5, 1.5),
) -> np.ndarray:
    """One dead-leaves image.

    Args:
        size: output side S.
        rng: NumPy generator; the image is a pure function of its state.
        leaves: shapes drawn (None: enough that their areas add up to about eight canvases; boxes, triangles
            and ellipses fill about half their circle, so about 1 % of the background still shows).
        r_min, r_max: radius range at output scale, pixels (r_max None: S / 4).
        ramp_p: probability that a shape of radius at least 8 px is filled with a colour ramp.
        blur_p: probability that the whole image is Gaussian-blurred, with sigma uniform in ``blur_sigma``.

    Returns:
        uint8 (S, S, 3) RGB.
    """
    r_max = size / 4 if r_max is None else r_max
    scale = SUPERSAMPLE
    side = size * scale
    if leaves is None:  # E[pi r^2] for p(r) ~ r^-3: 2 pi r_min^2 ln(r_max / r_min) / (1 - (r_min / r_max)^2)
        mean_area = 2 * math.pi * r_min**2 * math.log(r_max / r_min) / (1 - (r_min / r_max) ** 2)
        leaves = int(COVERAGE * size * size / mean_area)
    canvas = np.empty((side, side, 3), np.uint8)
    canvas[:] = rng.integers(0, 256, 3, dtype=np.uint8)
    radii = leaf_radii(leaves, r_min, r_max, rng) * scale
    centres = rng.uniform(-r_max * scale / 2, side + r_max * scale / 2, (leaves, 2))
    colours = rng.integers(0, 256, (leaves, 3))
    kinds = rng.integers(0, len(SHAPES), leaves)
    ramps = (rng.random(leaves) < ramp_p) & (radii >= 8 * scale)
    for radius, centre, colour, kind, ramp in zip(radii, centres, colours, kinds, ramps, strict=True):
        shape = SHAPES[kind]
        target, fill = canvas, tuple(int(c) for c in colour)
        if ramp:  # draw the shape as a mask over its bounding box, then paint the ramp through it
            top, left = (max(int(c - radius) - 1, 0) for c in centre[::-1])
            bottom, right = (min(int(c + radius) + 2, side) for c in centre[::-1])
            if bottom <= top or right <= left:
                continue
            target, fill = np.zeros((bottom - top, right - left), np.uint8), 255
            centre = centre - (left, top)
        if shape == "disk":
            cv2.circle(target, (round(centre[0]), round(centre[1])), max(round(radius), 1), fill, -1)
        elif shape == "ellipse":
            axes = (max(round(radius), 1), max(round(radius * rng.uniform(0.2, 1.0)), 1))
            centre_px = (round(centre[0]), round(centre[1]))
            cv2.ellipse(target, centre_px, axes, rng.uniform(0, 180), 0, 360, fill, -1)
        else:
            cv2.fillPoly(target, [np.round(_polygon(shape, centre, radius, rng)).astype(np.int32)], fill)
        if ramp:
            second = rng.integers(0, 256, 3).astype(np.float32)
            painted = _ramp(target.shape, colour.astype(np.float32), second, rng)
            region = canvas[top:bottom, left:right]
            inside = target > 0
            region[inside] = np.round(painted[inside]).astype(np.uint8)
    image = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    if rng.random() < blur_p:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(*blur_sigma))
    return image


def dead_leaves_set(count: int, size: int, seed: int) -> list[np.ndarray]:
    """``count`` dead-leaves images of side ``size``, image ``i`` drawn from seed ``(seed, i)``: the same
    images on every run and machine, and the first k of a larger set are the k of a smaller one."""
    return [dead_leaves(size, np.random.default_rng([seed, index])) for index in range(count)]
