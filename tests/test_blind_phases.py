"""The blind model's pixel-shuffle blend: its phases' denoising, the blend, sizes, levels and warm starts."""

import pytest
import torch

from denoise.models import create_model
from denoise.transforms.phases import merge_phases, split_phases
from tests.helpers import photo


def _blind(pixel_shuffle: bool = True, seed: int = 0):
    torch.manual_seed(seed)
    return create_model("blind_unet", widths=[8, 16], estimator="energy_image", pixel_shuffle=pixel_shuffle).eval()


def _noisy(height: int = 40, width: int = 52) -> torch.Tensor:
    clean = torch.from_numpy(photo(height, width)).permute(2, 0, 1)[None]
    return clean + 0.03 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(1))


def test_the_blend_is_the_direct_and_the_phase_denoising_weighted():
    blind, noisy = _blind(), _noisy()
    with torch.no_grad():
        blind.phase_logit.fill_(0.4)
        blind.phase_log_scale.fill_(-0.5)
        level = blind.estimate(noisy)
        direct = blind.denoiser(noisy, level)
        phases = merge_phases(blind.denoiser(split_phases(noisy), split_phases(level) * torch.exp(torch.tensor(-0.5))))
        weight = torch.sigmoid(torch.tensor(0.4))
        torch.testing.assert_close(blind(noisy), (1 - weight) * direct + weight * phases)
    assert blind.pad_multiple == 2 * blind.denoiser.pad_multiple


@pytest.mark.parametrize("size", [(40, 52), (37, 45), (1, 33)])
def test_any_size_and_every_form_of_level_gives_the_images_shape(size):
    blind, noisy = _blind(), _noisy(*size)
    levels = [None, 0.05, torch.tensor([0.05]), torch.full((1, 3), 0.05), torch.full((1, 3, *size), 0.05)]
    with torch.no_grad():
        outputs = [blind(noisy, level) for level in levels]
    assert all(output.shape == noisy.shape for output in outputs)
    for output in outputs[2:]:  # the same level in each of its forms gives the same result
        torch.testing.assert_close(output, outputs[1])


def test_a_batch_keeps_each_images_own_level():
    blind = _blind()
    noisy = torch.cat([_noisy(), _noisy().flip(-1)])
    with torch.no_grad():
        together = blind(noisy, torch.tensor([0.02, 0.1]))
        alone = torch.cat([blind(noisy[:1], 0.02), blind(noisy[1:], 0.1)])
    torch.testing.assert_close(together, alone)


def test_a_zeroed_unet_returns_the_input_through_both_branches():
    blind, noisy = _blind(), _noisy(37, 45)
    with torch.no_grad():
        for parameter in blind.last_layer.parameters():
            parameter.zero_()
        torch.testing.assert_close(blind(noisy), noisy)


def test_a_blind_model_without_the_blend_warm_starts_one_with_it():
    plain, blended = _blind(pixel_shuffle=False, seed=1), _blind(seed=2)
    assert blended.adopt(plain)
    for name, tensor in plain.state_dict().items():
        torch.testing.assert_close(blended.state_dict()[name], tensor)
    assert float(blended.phase_log_scale) == 0.0 and float(blended.phase_logit) == 0.0
    other = create_model("blind_unet", widths=[8, 32], estimator="energy_image")
    assert not blended.adopt(other)  # another design is refused, not half loaded


def test_the_blend_learns_with_the_estimator_through_a_frozen_unet():
    blind = _blind().train()
    blind.denoiser.requires_grad_(False)
    clean = torch.from_numpy(photo(64, 64)).permute(2, 0, 1)[None]
    (blind(clean + 0.05 * torch.randn_like(clean)) - clean).abs().mean().backward()
    assert blind.phase_logit.grad.abs() > 0 and blind.phase_log_scale.grad.abs() > 0
    assert all(parameter.grad is None for parameter in blind.denoiser.parameters())
