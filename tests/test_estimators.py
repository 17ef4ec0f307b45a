"""The blind models' noise-level estimators (denoise/models/estimators.py)."""

import math

import kornia
import pytest
import torch
import torch.nn.functional as F

from denoise.models import create_model
from denoise.models.estimators import ESTIMATORS, EnergyNoiseEstimator, ImageEnergyNoiseEstimator, local_log_rms
from tests.helpers import photo


def _flat_with_noise(sigma: float, seed: int = 0, size: int = 96) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return 0.5 + sigma * torch.randn(1, 3, size, size, generator=generator)


@pytest.mark.parametrize("sigma", [0.005, 0.02, 0.08])
def test_the_fine_residuals_rms_is_a_fixed_share_of_white_noise(sigma):
    # image - blur(image, 1 px) keeps sqrt(1 - 2 g0 + sum g^2) = 0.87 of white noise: the same share at any level
    rms = local_log_rms(_flat_with_noise(sigma), 1.0).exp()[..., 10:-10, 10:-10]
    assert rms.mean().item() == pytest.approx(0.87 * sigma, rel=0.05)
    assert local_log_rms(torch.full((1, 1, 32, 32), 0.3), 2.0).max().item() < math.log(1e-4)  # no noise: no level


def test_the_local_energy_is_the_mean_over_a_replicate_padded_window():
    # the separable box filter is the same window mean as the direct k x k average, border included
    image = torch.from_numpy(photo(40, 56)).permute(2, 0, 1)[None]
    residual = image - kornia.filters.gaussian_blur2d(image, (7, 7), (1.0, 1.0), border_type="replicate")
    direct = F.avg_pool2d(F.pad(residual.square(), (7, 7, 7, 7), mode="replicate"), 15, stride=1)
    torch.testing.assert_close(local_log_rms(image, 1.0, 15), 0.5 * torch.log(direct + 1e-10), rtol=0, atol=1e-4)


def test_an_untrained_energy_estimator_already_follows_the_noise_level():
    estimator = EnergyNoiseEstimator(3)
    with torch.no_grad():
        low, high = (estimator(_flat_with_noise(sigma)).mean().item() for sigma in (0.01, 0.05))
    assert high / low == pytest.approx(5.0, rel=0.1)
    textured = torch.from_numpy(photo(96, 96)).permute(2, 0, 1)[None]
    with torch.no_grad():
        level = estimator(textured)
    assert level.shape == textured.shape and 0 < level.min() and level.max() <= 1.0


def test_the_blind_model_names_its_estimator_and_old_checkpoints_keep_the_conv_one():
    blind = create_model("blind_unet", widths=[8, 16], estimator="energy")
    assert isinstance(blind.estimator, EnergyNoiseEstimator)
    rebuilt = create_model(**blind.model_config)
    rebuilt.load_state_dict(blind.state_dict())  # the config names it, so a checkpoint rebuilds it
    config = {key: value for key, value in blind.model_config.items() if key != "estimator"}
    assert isinstance(create_model(**config).estimator, ESTIMATORS["conv"])  # saved before the choice existed
    with pytest.raises(
        ValueError, match="unknown noise-level estimator 'fft'; choose one of conv, energy, energy_image"
    ):
        create_model("blind_unet", widths=[8, 16], estimator="fft")


def test_the_energy_estimator_learns_through_a_frozen_unet():
    torch.manual_seed(0)
    blind = create_model("blind_unet", widths=[8, 16], estimator="energy")
    blind.denoiser.requires_grad_(False)
    clean = torch.from_numpy(photo(64, 64)).permute(2, 0, 1)[None]
    noisy = clean + 0.05 * torch.randn_like(clean)
    (blind(noisy) - clean).abs().mean().backward()
    last = blind.estimator.layers[-1]
    assert last.weight.grad.abs().sum() > 0  # the zero-initialised correction still gets a gradient
    assert all(parameter.grad is None for parameter in blind.denoiser.parameters())


def test_the_image_estimator_gives_one_level_per_image_and_channel_the_maps_geometric_mean():
    torch.manual_seed(0)
    per_pixel, per_image = EnergyNoiseEstimator(3), ImageEnergyNoiseEstimator(3)
    per_image.load_state_dict(per_pixel.state_dict())
    noisy = torch.cat([_flat_with_noise(0.02), torch.from_numpy(photo(96, 96)).permute(2, 0, 1)[None]])
    with torch.no_grad():
        level, log_map = per_image(noisy), per_pixel(noisy).log()
    assert level.shape == noisy.shape
    torch.testing.assert_close(level, log_map.mean((2, 3), keepdim=True).exp().expand_as(noisy))
    assert level.flatten(2).std(2).max() == 0 and level[1, 0, 0, 0] != level[0, 0, 0, 0]  # each image its own
