"""Noise maps: every accepted sigma form, block averaging, errors."""

import pytest
import torch
import torch.nn.functional as F

from denoise.transforms import noise_map, sigma_as_tensor


def _map(sigma, image, r):
    """The noise map of a user-form sigma: first its one tensor form, then the map."""
    return noise_map(sigma_as_tensor(sigma, image), image, r=r)


def test_the_map_takes_only_the_tensor_form():
    with pytest.raises(TypeError, match="4-D form of sigma_as_tensor"):
        noise_map(0.1, torch.zeros(1, 3, 4, 4), r=2)


def test_scalar_sigma_fills_every_channel():
    image = torch.zeros(2, 3, 8, 12)
    result = _map(0.1, image, r=2)
    assert result.shape == (2, 3, 4, 6)
    assert torch.all(result == torch.tensor(0.1))


def test_per_image_and_per_channel_sigma():
    image = torch.zeros(2, 3, 4, 4)
    per_image = _map(torch.tensor([0.1, 0.2]), image, r=2)
    assert torch.all(per_image[0] == 0.1) and torch.all(per_image[1] == torch.tensor(0.2))
    per_channel = _map(torch.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]), image, r=2)
    assert per_channel.shape == (2, 3, 2, 2)
    assert torch.allclose(per_channel[1, 2], torch.full((2, 2), 0.6))


def test_per_pixel_map_is_averaged_per_block():
    image = torch.zeros(1, 3, 4, 4)
    sigma = torch.arange(16.0).reshape(1, 1, 4, 4) / 100
    result = noise_map(sigma, image, r=2)
    assert result.shape == (1, 3, 2, 2)
    expected = F.avg_pool2d(sigma, 2)
    for channel in range(3):
        assert torch.allclose(result[:, channel : channel + 1], expected)
    # the top-left 2x2 block holds 0, 1, 4, 5 (/100): mean 2.5/100
    assert result[0, 0, 0, 0].item() == pytest.approx(0.025)


def test_per_pixel_map_at_full_resolution_is_kept():
    sigma = torch.rand(2, 3, 6, 6)
    assert torch.equal(noise_map(sigma, torch.zeros(2, 3, 6, 6), r=1), sigma)


def test_dtype_and_device_follow_the_image():
    result = _map(0.1, torch.zeros(1, 1, 2, 2, dtype=torch.float64), r=2)
    assert result.dtype == torch.float64


@pytest.mark.parametrize("sigma", [torch.zeros(3), torch.zeros(2, 5), torch.zeros(2, 3, 5, 5), torch.zeros(1, 2, 3)])
def test_sigma_that_does_not_fit_raises(sigma):
    with pytest.raises(ValueError, match="does not fit an image batch"):
        sigma_as_tensor(sigma, torch.zeros(2, 3, 4, 4))
