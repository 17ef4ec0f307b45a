"""The noise-level contract: checked once on [0, 1], strength applied once, one tensor form."""

from pathlib import Path

import numpy as np
import pytest
import torch

from denoise.sigma import NoiseLevel, parse_sigma, sigma_from_255


@pytest.mark.parametrize(
    "value, message",
    [(-0.1, ">= 0"), (float("nan"), ">= 0"), (25, "above 1: .*for 25/255 use 0.0980.*--sigma255"), ("x", "a number")],
)
def test_bad_levels_say_how_to_give_them(value, message):
    with pytest.raises(ValueError, match=message):
        parse_sigma(value)


def test_eight_bit_units_are_a_named_convenience():
    assert sigma_from_255(25.5) == pytest.approx(0.1)
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        sigma_from_255(300)


def test_strength_is_applied_once_and_clipped_at_the_strongest_level():
    assert NoiseLevel.of(0.1, strength=2).number == pytest.approx(0.2)
    assert NoiseLevel.of(0.6, strength=2).number == 1.0  # 0.6 is a valid level: no advice about /255
    level = NoiseLevel.of(0.1, strength=1.5)
    assert NoiseLevel.of(level) is level  # a checked level passes through untouched
    assert NoiseLevel.of(level, strength=2).number == pytest.approx(0.3)
    with pytest.raises(ValueError, match="strength must be a positive number"):
        NoiseLevel.of(0.1, strength=0)


def test_one_tensor_form_for_numbers_and_maps():
    number = NoiseLevel.of(0.1)
    assert number.values.shape == (1, 1, 1, 1) and not number.per_pixel and number.scalar() == 0.1
    grey_map = NoiseLevel.of(np.full((4, 6), 0.2, np.float32), (4, 6, 3), strength=2)
    assert grey_map.values.shape == (1, 1, 4, 6) and grey_map.per_pixel
    torch.testing.assert_close(grey_map.values, torch.full((1, 1, 4, 6), 0.4))
    colour_map = NoiseLevel.of(torch.full((2, 3, 4, 6), 0.1), (2, 3, 4, 6))
    assert colour_map.image(1).values.shape == (1, 3, 4, 6)
    with pytest.raises(ValueError, match="one sigma per image"):
        grey_map.scalar()


@pytest.mark.parametrize(
    "sigma_map, message",
    [
        (np.zeros((3, 6), np.float32), "does not match the image"),
        (np.full((4, 6), 2.0, np.float32), r"finite values in \[0, 1\]"),
        (np.full((4, 6), np.nan, np.float32), "finite values"),
        (torch.zeros(4, 6), r"\(B, 1 or C, H, W\)"),
    ],
)
def test_bad_maps_are_refused(sigma_map, message):
    with pytest.raises(ValueError, match=message):
        NoiseLevel.of(sigma_map, (4, 6, 3))


def _sigma_settings(node, path=()):
    """Every (key path, value) in a parsed YAML whose key names a noise level."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = (*path, str(key))
            if "sigma" in str(key) and not isinstance(value, dict):
                yield here, value
            yield from _sigma_settings(value, here)
    elif isinstance(node, list):
        for item in node:
            yield from _sigma_settings(item, path)


def test_configs_give_sigma_on_the_unit_scale_or_say_255_in_the_name():
    import yaml

    root = Path(__file__).resolve().parents[1] / "configs"
    found = {}
    for config in sorted(root.rglob("*.yaml")):
        for keys, value in _sigma_settings(yaml.safe_load(config.read_text())):
            numbers = value if isinstance(value, list) else [value]
            if not keys[-1].endswith("_255") and any(isinstance(n, int | float) and n > 1 for n in numbers):
                found[f"{config.name}: {'.'.join(keys)}"] = value
    assert found == {}, "a level above 1 under a name without _255 reads as the [0, 1] scale"
