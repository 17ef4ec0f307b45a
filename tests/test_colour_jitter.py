"""Colour jitter of clean training patches: exact inverses, grey kept grey, ranges and probabilities honoured."""

import math

import pytest
import torch

from denoise.data.colour_jitter import (
    PERMUTATIONS,
    ColourJitter,
    apply_colour_maps,
    colour_matrix,
    jitter_colour,
    random_colour_maps,
)


def _patches(batch: int = 6, size: int = 8) -> torch.Tensor:
    generator = torch.Generator().manual_seed(1)
    return 0.2 + 0.6 * torch.rand(batch, 3, size, size, generator=generator)  # room to move without clipping


def test_scaling_and_rotation_are_undone_by_their_inverse():
    scale = torch.tensor([0.5, 1.0, 2.0, 3.0])
    angle = torch.tensor([-3.0, 0.0, 1.0, math.pi / 2])
    forward, backward = colour_matrix(scale, angle), colour_matrix(1 / scale, -angle)
    torch.testing.assert_close(backward @ forward, torch.eye(3).expand(4, 3, 3), atol=1e-6, rtol=0)
    rgb = _patches(4)
    torch.testing.assert_close(apply_colour_maps(apply_colour_maps(rgb, forward), backward), rgb, atol=1e-6, rtol=0)


def test_grey_stays_grey_and_the_channel_mean_is_kept():
    maps = colour_matrix(torch.tensor([2.5, 0.7]), torch.tensor([0.8, -2.0]))
    grey = torch.rand(2, 1, 5, 5).expand(2, 3, 5, 5)
    torch.testing.assert_close(apply_colour_maps(grey, maps), grey, atol=1e-6, rtol=0)
    rgb = _patches(2)
    torch.testing.assert_close(apply_colour_maps(rgb, maps).mean(1), rgb.mean(1), atol=1e-6, rtol=0)


def test_saturation_scales_the_chroma_and_hue_keeps_its_size():
    rgb = _patches(1)
    chroma = rgb - rgb.mean(1, keepdim=True)
    scaled = apply_colour_maps(rgb, colour_matrix(torch.tensor([2.0]), torch.tensor([0.0])))
    torch.testing.assert_close(scaled - scaled.mean(1, keepdim=True), 2 * chroma, atol=1e-6, rtol=0)
    turned = apply_colour_maps(rgb, colour_matrix(torch.tensor([1.0]), torch.tensor([1.3])))
    turned_chroma = turned - turned.mean(1, keepdim=True)
    torch.testing.assert_close(turned_chroma.norm(dim=1), chroma.norm(dim=1), atol=1e-6, rtol=0)
    assert (turned_chroma - chroma).abs().max() > 0.05  # the hue did turn
    third = apply_colour_maps(rgb, colour_matrix(torch.tensor([1.0]), torch.tensor([2 * math.pi / 3])))
    torch.testing.assert_close(third, rgb[:, [2, 0, 1]], atol=1e-5, rtol=0)  # a third of a turn cycles r, g, b


def test_nothing_changes_when_every_probability_is_zero():
    rgb = _patches()
    jitter = ColourJitter(saturation=(0.5, 3.0))
    assert not jitter.active
    torch.testing.assert_close(jitter_colour(rgb, jitter), rgb, atol=1e-6, rtol=0)


def test_permutations_alone_reorder_channels_and_every_order_occurs():
    rgb = _patches(400, 2)
    out = jitter_colour(rgb, ColourJitter(permute_p=1.0), generator=torch.Generator().manual_seed(0))
    orders = set()
    for before, after in zip(rgb, out, strict=True):
        order = next(order for order in PERMUTATIONS if torch.allclose(after, before[list(order)], atol=1e-6))
        orders.add(order)
    assert orders == set(PERMUTATIONS[1:])  # always another order: p = 1 never draws the identity


def test_drawn_scales_stay_in_range_and_follow_their_probability():
    jitter = ColourJitter(saturation=(1.5, 3.0), saturation_p=0.5)
    maps = random_colour_maps(4000, jitter, generator=torch.Generator().manual_seed(0))
    rgb = _patches(4000, 1)
    chroma = rgb - rgb.mean(1, keepdim=True)
    out = apply_colour_maps(rgb, maps)
    scale = (out - out.mean(1, keepdim=True)).norm(dim=1) / chroma.norm(dim=1)
    changed = (scale - 1).abs() > 1e-4
    assert 0.45 < changed.float().mean() < 0.55
    assert scale[changed].min() >= 1.5 - 1e-4 and scale[changed].max() <= 3.0 + 1e-4


def test_output_is_clipped_to_the_unit_range_and_shapes_are_checked():
    out = jitter_colour(torch.rand(8, 3, 4, 4), ColourJitter(saturation=(3.0, 3.0), saturation_p=1.0))
    assert out.min() >= 0 and out.max() <= 1
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        jitter_colour(torch.rand(2, 1, 4, 4), ColourJitter(hue_p=1.0))


@pytest.mark.parametrize(
    "kwargs, message", [({"saturation": (0.0, 2.0)}, "0 < low <= high"), ({"hue_p": 1.5}, "hue_p is a probability")]
)
def test_bad_ranges_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ColourJitter(**kwargs)
