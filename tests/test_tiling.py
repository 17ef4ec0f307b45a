"""Tiling: exact for pointwise functions, near-exact for networks, no seams, plans that cover the image."""

import math

import numpy as np
import pytest
import torch

from denoise.checkpoint import DEFAULT_CHECKPOINTS, checkpoint_dir, load_checkpoint
from denoise.metrics import to_uint8
from denoise.tiling import (
    BYTES_PER_TILE_PIXEL,
    DEFAULT_MEMORY_BUDGET,
    DEFAULT_OVERLAP,
    auto_tile,
    check_tile,
    plan_axis,
    ramp_weights,
    tiled_apply,
)
from denoise.transforms import dihedral, dihedral_inverse
from denoise.transforms.dihedral import ENSEMBLE_ORDER, ENSEMBLE_SIZES, ensemble_mean
from tests.helpers import photo, random_checkpoint


@pytest.mark.parametrize(
    "length, tile, overlap", [(10, 64, 16), (64, 64, 16), (65, 64, 16), (1000, 128, 32), (333, 96, 40)]
)
def test_plan_covers_the_axis_with_enough_overlap(length, tile, overlap):
    plan = plan_axis(length, tile, overlap)
    assert plan.starts[0] == 0 and plan.tile % 32 == 0
    assert plan.padded_length >= length
    assert plan.padded_length == -(-length // 32) * 32  # padded like the networks pad: to a multiple of 32
    assert all(start % 32 == 0 for start in plan.starts)  # aligned to the networks' block grid
    if len(plan.starts) > 1:
        gaps = np.diff(plan.starts)
        assert (plan.tile - gaps >= overlap).all()
    else:
        assert plan.tile == -(-length // 32) * 32


def test_ramp_weights_are_positive_and_symmetric():
    plan = plan_axis(500, 128, 32)
    weights = ramp_weights(plan)
    assert all((weight > 0).all() and (weight <= 1).all() for weight in weights)
    assert torch.allclose(weights[1], weights[1].flip(0)) or len(weights) == 2


@pytest.mark.parametrize("size", [(1, 1), (31, 45), (64, 64), (150, 333), (257, 129)])
@pytest.mark.parametrize("tile, overlap", [(64, 16), (96, 40), (128, 0)])
def test_pointwise_function_tiled_equals_untiled_exactly(size, tile, overlap):
    image = torch.rand(1, 3, *size) * 1.4 - 0.2
    tiled = tiled_apply(lambda tiles, extra: torch.sin(3 * tiles) + tiles**2, image, tile, overlap, batch_size=3)
    assert torch.equal(tiled, torch.sin(3 * image) + image**2)


def test_extra_input_is_cut_into_the_same_tiles():
    image = torch.rand(1, 3, 100, 150)
    sigma = torch.rand(1, 1, 100, 150)
    tiled = tiled_apply(lambda tiles, extra: tiles * extra, image, 64, 16, extra=sigma)
    assert torch.equal(tiled, image * sigma)


def test_progress_counts_every_tile():
    counted = []
    tiled_apply(lambda tiles, extra: tiles, torch.rand(1, 1, 200, 200), 64, 16, batch_size=5, progress=counted.append)
    rows = plan_axis(200, 64, 16)
    assert sum(counted) == len(rows.starts) ** 2


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="tile must be a positive multiple of 32"):
        check_tile(100, 8)
    with pytest.raises(ValueError, match="overlap must be >= 0 and less than half the tile"):
        check_tile(64, 32)
    with pytest.raises(ValueError, match="must be at least 64: use a larger tile"):
        check_tile(64, 16, align=64)
    with pytest.raises(ValueError, match=r"one image \(1, C, H, W\)"):
        tiled_apply(lambda tiles, extra: tiles, torch.rand(2, 3, 32, 32), 32, 0)


def test_auto_tile_is_bounded_and_a_multiple_of_32():
    assert auto_tile(20, 30) == (32, 32)  # one tile: the image rounded up to the networks' multiple
    assert auto_tile(300, 400) == (320, 416)
    assert auto_tile(816, 1224) == (832, 640)  # docs/performance.md example: two tiles side by side
    for height, width in ((6000, 4000), (816, 1224), (3000, 200)):
        tile_height, tile_width = auto_tile(height, width)
        assert tile_height % 32 == 0 and tile_width % 32 == 0
        assert tile_height * tile_width * BYTES_PER_TILE_PIXEL <= DEFAULT_MEMORY_BUDGET
    assert all(edge % 64 == 0 for edge in auto_tile(6000, 4000, align=64))
    assert _area(auto_tile(6000, 4000, memory_budget=64 * 2**20)) < _area(auto_tile(6000, 4000))
    assert _area(auto_tile(6000, 4000, batch_size=4)) < _area(auto_tile(6000, 4000))


def _computed_pixels(height, width, tile_height, tile_width, overlap=DEFAULT_OVERLAP):
    rows, cols = plan_axis(height, tile_height, overlap), plan_axis(width, tile_width, overlap)
    return len(rows.starts) * len(cols.starts) * rows.tile * cols.tile


def _area(shape):
    return shape[0] * shape[1]


@pytest.mark.parametrize("height, width", [(816, 1224), (1632, 2448), (4000, 6000), (2000, 333)])
def test_auto_tile_computes_no_more_than_square_tiles_of_the_same_memory(height, width):
    tile_height, tile_width = auto_tile(height, width)
    side = math.isqrt(DEFAULT_MEMORY_BUDGET // BYTES_PER_TILE_PIXEL) // 32 * 32
    chosen = _computed_pixels(height, width, tile_height, tile_width)
    assert chosen <= _computed_pixels(height, width, side, side)
    assert chosen <= 1.1 * height * width  # at most 10% recomputed overlap on these sizes


def test_a_shortened_tile_covers_as_the_requested_one_with_less_work():
    plan = plan_axis(1224, 704, 32)  # rounded to 1248: two tiles of 640 overlapping by 32 cover it
    assert plan.tile == 640 and plan.starts == (0, 608)
    assert plan_axis(6000, 704, 32).tile == 704  # already the least length for its nine tiles


# Far smaller than any automatic tile (>= 352 px), so the 300x412 test photo has seams on both axes. Tiles are
# shortened until neighbours overlap by just DEFAULT_OVERLAP; with the shipped model 192-px tiles keep 99.97% of
# the pixels within one grey level of the untiled pass, 160-px tiles only 99.87% (more of the image near a seam).
SMALL_TILE = 192


@pytest.fixture(scope="module", params=["random", "shipped"])
def network(request, tmp_path_factory):
    """A random small UNet, and the shipped colour model (when one ships): tiling must hold for both."""
    if request.param == "shipped":
        path = checkpoint_dir() / DEFAULT_CHECKPOINTS[3]
        if not path.is_file():
            pytest.skip("no colour checkpoint ships yet")
    else:
        path = random_checkpoint(tmp_path_factory.mktemp("ckpt") / "random.pt")
    model, _ = load_checkpoint(path)
    return model


def _network_pair(network, tile):
    clean = torch.from_numpy(photo(300, 412)).permute(2, 0, 1)[None]
    noisy = clean + 0.1 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        untiled = network(noisy, 0.1)
        tiled = tiled_apply(lambda tiles, extra: network(tiles, 0.1), noisy, tile, DEFAULT_OVERLAP)
    return noisy, untiled, tiled


def test_network_tiled_matches_untiled_within_one_level(network):
    noisy, untiled, tiled = _network_pair(network, tile=SMALL_TILE)
    assert (untiled - noisy).abs().mean() > 0.01  # the network does change the image: the check is not vacuous
    untiled8 = to_uint8(untiled[0].permute(1, 2, 0).numpy()).astype(int)
    tiled8 = to_uint8(tiled[0].permute(1, 2, 0).numpy()).astype(int)
    close = np.abs(untiled8 - tiled8) <= 1
    assert close.mean() >= 0.999


def test_no_seams_on_tile_borders(network):
    noisy, _, tiled = _network_pair(network, tile=SMALL_TILE)
    output = tiled[0].mean(0).numpy()  # (H, W)
    for axis, plan in (
        (1, plan_axis(output.shape[1], SMALL_TILE, DEFAULT_OVERLAP)),
        (0, plan_axis(output.shape[0], SMALL_TILE, DEFAULT_OVERLAP)),
    ):
        steps = np.abs(np.diff(output, axis=axis)).mean(axis=1 - axis)  # mean jump between neighbours, per line
        borders = sorted({start for start in plan.starts[1:]} | {start + plan.tile for start in plan.starts[:-1]})
        border_steps = steps[[b - 1 for b in borders]]
        assert border_steps.mean() <= 2 * steps.mean()


@pytest.mark.parametrize("index", range(8))
def test_dihedral_inverse_is_exact(index):
    x = torch.rand(2, 3, 5, 7)
    assert torch.equal(dihedral_inverse(dihedral(x, index), index), x)


@pytest.mark.parametrize("index", range(8))
def test_dihedral_is_a_flip_then_quarter_turns(index):
    x = torch.rand(2, 3, 5, 7)
    expected = torch.rot90(x.flip(-1) if index >= 4 else x, index % 4, dims=(-2, -1))
    assert torch.equal(dihedral(x, index), expected)


def test_the_identity_and_the_transpose_are_views():
    x = torch.rand(1, 3, 6, 9)
    assert dihedral(x, 0) is x
    assert dihedral(x, 5).data_ptr() == x.data_ptr() and torch.equal(dihedral(x, 5), x.transpose(-2, -1))


@pytest.mark.parametrize("size", ENSEMBLE_SIZES)
def test_each_ensemble_prefix_is_closed_under_composition(size):
    x = torch.rand(1, 1, 4, 4)
    views = ENSEMBLE_ORDER[:size]
    outputs = [dihedral(x, index) for index in views]
    for first in views:
        for second in views:
            composed = dihedral(dihedral(x, first), second)
            assert any(torch.equal(composed, output) for output in outputs), (first, second)


def test_ensemble_mean_averages_the_views_brought_back():
    x, extra = torch.rand(1, 2, 6, 8), torch.rand(1, 1, 6, 8)

    def fn(image, side):  # not equivariant: a running sum along the rows, plus the side input
        return image.cumsum(-1) + side

    views = ENSEMBLE_ORDER[:4]
    expected = sum(dihedral_inverse(fn(dihedral(x, k), dihedral(extra, k)), k) for k in views) / 4
    torch.testing.assert_close(ensemble_mean(fn, x, views, extra), expected)
    assert torch.equal(ensemble_mean(fn, x, (0,), extra), fn(x, extra))
    kept = x.clone()
    assert torch.equal(ensemble_mean(lambda image, side: image, x, views), x) and torch.equal(x, kept)


def test_dihedral_transforms_are_distinct():
    x = torch.rand(1, 1, 4, 4)
    outputs = [dihedral(x, index) for index in range(8)]
    assert all(not torch.equal(outputs[i], outputs[j]) for i in range(8) for j in range(i))
    with pytest.raises(ValueError, match="0..7"):
        dihedral(x, 8)
