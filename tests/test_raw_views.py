"""Bayer-preserving flips and rotations of packed raw planes, and the raw model's self-ensemble built on them."""

import numpy as np
import pytest
import torch

from denoise.denoiser import NetworkMethod
from denoise.models import create_model
from denoise.raw.cfa import pack
from denoise.raw.views import bayer_dihedral, bayer_dihedral_inverse, red_moved
from denoise.sigma import NoiseLevel
from denoise.tiling import DEFAULT_OVERLAP
from denoise.transforms.dihedral import DIHEDRAL_COUNT, dihedral

VIEWS = range(DIHEDRAL_COUNT)
COLOURS = np.array([["R", "G"], ["G", "B"]])


@pytest.mark.parametrize("index", VIEWS)
@pytest.mark.parametrize("shape", [(5, 7), (6, 4)])
def test_every_view_is_undone_exactly(index, shape):
    planes = torch.rand(2, 4, *shape)
    moved = bayer_dihedral(planes, index)
    rows, columns = red_moved(index)
    turned = (shape[1], shape[0]) if index % 2 else shape
    assert moved.shape == (2, 4, turned[0] + rows, turned[1] + columns)
    assert torch.equal(bayer_dihedral_inverse(moved, index), planes)


@pytest.mark.parametrize("index", VIEWS)
def test_a_view_is_the_packing_of_the_flipped_mosaic(index):
    """The same planes as :func:`denoise.raw.cfa.pack` makes of the transformed mosaic, read with the colour
    pattern the transform gives it (and mirrored one pixel where red moved): red stays red, blue blue."""
    mosaic = np.random.default_rng(index).random((10, 14)).astype(np.float32)
    planes, _ = pack(mosaic, "RGGB")
    colours = COLOURS[np.arange(10)[:, None] % 2, np.arange(14)[None, :] % 2]
    codes = dihedral(torch.from_numpy(colours.view(np.int32).copy()), index).numpy()
    pattern = "".join(codes[:2, :2].view("<U1").ravel())
    expected, _ = pack(np.ascontiguousarray(dihedral(torch.from_numpy(mosaic), index).numpy()), pattern)
    np.testing.assert_array_equal(bayer_dihedral(torch.from_numpy(planes)[None], index)[0].numpy(), expected)


def test_views_reject_what_is_not_packed_planes():
    with pytest.raises(ValueError, match=r"\(B, 4, h, w\)"):
        bayer_dihedral(torch.rand(1, 3, 8, 8), 7)


def test_the_raw_model_averages_its_bayer_views_within_tiles():
    torch.manual_seed(0)
    model = create_model("unet", channels=4, widths=(8, 16)).eval()
    planes = torch.rand(1, 4, 64, 96)  # whole tiles: the method sees the planes as they are
    level = NoiseLevel.of(0.02 + 0.05 * planes)  # a per-pixel map, moved with the planes
    method = NetworkMethod(model, None, DEFAULT_OVERLAP, view_family="bayer")
    with torch.inference_mode():
        by_hand = [
            bayer_dihedral_inverse(model(bayer_dihedral(planes, index), bayer_dihedral(level.values, index)), index)
            for index in (0, 7)
        ]
        averaged = method(planes, level, views=(0, 7))
        single = method(planes, level)
    torch.testing.assert_close(averaged, (by_hand[0] + by_hand[1]) / 2, rtol=0, atol=1e-6)
    torch.testing.assert_close(single, by_hand[0], rtol=0, atol=1e-6)
    assert not torch.allclose(averaged, single)
