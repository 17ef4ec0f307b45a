"""Dead-leaves images: power-law radii, covered canvases, saturated colours, reproducible from their seed."""

import cv2
import numpy as np
import pytest

from denoise.data.dead_leaves import dead_leaves, dead_leaves_set, leaf_radii


def test_radii_follow_the_inverse_cube_law():
    radii = leaf_radii(200_000, 2.0, 64.0, np.random.default_rng(0))
    assert radii.min() >= 2.0 and radii.max() <= 64.0
    # P(r > t) = (t^-2 - r_max^-2) / (r_min^-2 - r_max^-2) for p(r) ~ r^-3
    for threshold in (3.0, 8.0, 20.0):
        expected = (threshold**-2 - 64.0**-2) / (2.0**-2 - 64.0**-2)
        assert (radii > threshold).mean() == pytest.approx(expected, rel=0.05)


def test_an_image_is_covered_edged_and_colourful():
    rng = np.random.default_rng(3)
    image = dead_leaves(256, rng, blur_p=0.0)
    assert image.shape == (256, 256, 3) and image.dtype == np.uint8
    colours = np.unique(image.reshape(-1, 3), axis=0)
    assert len(colours) > 1000  # many leaves, anti-aliased edges between them
    # strongly saturated on average, unlike BSD (mean HSV saturation about 80 / 255)
    assert cv2.cvtColor(image, cv2.COLOR_RGB2HSV)[..., 1].mean() > 110
    # flat regions and sharp edges: most pixels sit in flat leaves, a few on strong edges
    gradient = np.abs(np.diff(image.astype(np.int16), axis=1)).max(axis=2)
    assert (gradient == 0).mean() > 0.4 and (gradient > 60).mean() > 0.01


def test_background_barely_shows():
    # the background is the first colour the generator draws: draw it again from the same seed
    rng = np.random.default_rng(11)
    background = rng.integers(0, 256, 3, dtype=np.uint8)
    image = dead_leaves(128, np.random.default_rng(11), blur_p=0.0)
    assert (image == background).all(axis=2).mean() < 0.05


def test_the_set_is_reproducible_and_nested():
    first = dead_leaves_set(3, 64, seed=5)
    again = dead_leaves_set(2, 64, seed=5)
    other = dead_leaves_set(1, 64, seed=6)
    assert all(np.array_equal(a, b) for a, b in zip(first[:2], again, strict=True))
    assert not np.array_equal(first[0], first[1]) and not np.array_equal(first[0], other[0])
