"""The noise-correlation statistic that gates the blind model's pixel-shuffle blend."""

import pytest
import torch

from denoise.data.camera import demosaic
from denoise.models.noise_correlation import (
    DEMOSAICKED_RATIO,
    WHITE_RATIO,
    correlation_gate,
    phase_energy_ratio,
)


def _flat(batch: int = 2, size: int = 192) -> torch.Tensor:
    return torch.full((batch, 3, size, size), 0.5)


@pytest.mark.parametrize("sigma", [3 / 255, 10 / 255, 30 / 255])
def test_its_constants_are_the_ratios_of_white_and_demosaicked_noise_at_any_level(sigma):
    generator = torch.Generator().manual_seed(int(sigma * 255))
    flat = _flat()
    white = flat + sigma * torch.randn(flat.shape, generator=generator)
    mosaic_noise = sigma * torch.randn((2, 1, *flat.shape[-2:]), generator=generator)
    demosaicked = flat + demosaic(mosaic_noise)
    torch.testing.assert_close(phase_energy_ratio(white), torch.full((2,), WHITE_RATIO), atol=0.03, rtol=0)
    torch.testing.assert_close(phase_energy_ratio(demosaicked), torch.full((2,), DEMOSAICKED_RATIO), atol=0.03, rtol=0)
    assert correlation_gate(white).max() < 0.1 and correlation_gate(demosaicked).min() > 0.9


def test_the_gate_rises_with_the_noises_correlation():
    generator = torch.Generator().manual_seed(0)
    white = 0.04 * torch.randn((1, 3, 192, 192), generator=generator)
    blurs = [0.3, 0.6, 1.2]  # a wider blur correlates neighbouring pixels more
    gates = [float(correlation_gate(0.5 + _blurred(white, b))) for b in blurs]
    assert gates[0] < gates[1] < gates[2] and gates[2] == 1.0


def _blurred(image: torch.Tensor, sigma: float) -> torch.Tensor:
    import kornia

    return kornia.filters.gaussian_blur2d(image, (7, 7), (sigma, sigma), border_type="reflect")


def test_each_image_of_a_batch_gets_its_own_gate():
    generator = torch.Generator().manual_seed(1)
    white = 0.5 + 0.05 * torch.randn((1, 3, 128, 128), generator=generator)
    correlated = 0.5 + _blurred(0.1 * torch.randn((1, 3, 128, 128), generator=generator), 1.2)
    together = correlation_gate(torch.cat([white, correlated]))
    torch.testing.assert_close(together, torch.cat([correlation_gate(white), correlation_gate(correlated)]))
    assert together[0] < 0.1 and together[1] > 0.9


def test_an_odd_size_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="even height and width"):
        phase_energy_ratio(torch.zeros(1, 3, 33, 32))
