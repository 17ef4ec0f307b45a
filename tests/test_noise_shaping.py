"""The camera's processing of the sensor noise: opponent space and its inverse, chroma blur, luma sharpening."""

import pytest
import torch

from denoise.data.camera_noise import CameraNoise, synthesise
from denoise.data.noise_shaping import NoiseShaping, from_opponent, shape_noise, to_opponent
from tests.helpers import photo


def _noise(batch: int = 2, size: int = 48, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(seed))


def _neighbour_correlation(planes: torch.Tensor) -> float:
    inner = planes[..., 6:-6, 6:-6]
    pairs = torch.stack([inner[..., :, :-1].flatten(), inner[..., :, 1:].flatten()])
    return float(torch.corrcoef(pairs)[0, 1])


def test_opponent_space_inverts():
    image = _noise()
    torch.testing.assert_close(from_opponent(to_opponent(image)), image)
    torch.testing.assert_close(to_opponent(from_opponent(image)), image)
    grey = torch.ones(1, 3, 4, 4) * 0.3
    opponent = to_opponent(grey)
    torch.testing.assert_close(opponent[:, 0], grey[:, 0])  # a grey pixel: its value as luma, no colour
    assert opponent[:, 1:].abs().max() < 1e-7


def test_no_shaping_gives_the_noise_back():
    noise = _noise()
    zeros = torch.zeros(noise.shape[0])
    torch.testing.assert_close(shape_noise(noise, zeros, zeros), noise)


def test_chroma_blur_makes_colour_noise_blotchy_and_leaves_luma():
    noise = _noise()
    shaped = shape_noise(noise, torch.full((2,), 2.0), torch.zeros(2))
    before, after = to_opponent(noise), to_opponent(shaped)
    torch.testing.assert_close(after[:, 0], before[:, 0])
    assert after[:, 1:].std() < 0.5 * before[:, 1:].std()  # the camera removes most colour noise
    assert _neighbour_correlation(after[:, 1:]) > 0.8 > 0.1 > abs(_neighbour_correlation(before[:, 1:]))


@pytest.mark.parametrize("amount, grows", [(1.0, True), (-0.6, False)])
def test_luma_is_sharpened_or_smoothed(amount, grows):
    noise = _noise()
    shaped = shape_noise(noise, torch.zeros(2), torch.full((2,), amount))
    before, after = to_opponent(noise), to_opponent(shaped)
    torch.testing.assert_close(after[:, 1:], before[:, 1:])
    assert (after[:, 0].std() > 1.2 * before[:, 0].std()) == grows
    assert (after[:, 0].std() < 0.8 * before[:, 0].std()) == (not grows)


def test_shaping_draws_follow_their_probability():
    chroma, luma, gain = NoiseShaping(p=0.0).draw(64, generator=torch.Generator().manual_seed(1))
    assert (chroma == 0).all() and (luma == 0).all() and (gain == 1).all()
    shaping = NoiseShaping(p=1.0, chroma_sigma=(1.0, 2.0), luma_amount=(0.0, 0.5), chroma_gain=(0.3, 0.6))
    chroma, luma, gain = shaping.draw(64)
    assert ((chroma >= 1) & (chroma <= 2)).all() and ((luma >= 0) & (luma <= 0.5)).all()
    assert ((gain >= 0.3) & (gain <= 0.6)).all()


def test_chroma_gain_damps_colour_noise_and_leaves_luma():
    noise = _noise()
    shaped = shape_noise(noise, torch.zeros(2), torch.zeros(2), torch.tensor([0.25, 1.0]))
    before, after = to_opponent(noise), to_opponent(shaped)
    torch.testing.assert_close(after[:, 0], before[:, 0])
    torch.testing.assert_close(after[0, 1:], 0.25 * before[0, 1:])
    torch.testing.assert_close(after[1], before[1])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"p": 1.5}, "probability"),
        ({"chroma_sigma": (2.0, 1.0)}, "chroma_sigma"),
        ({"luma_amount": (-2.0, 0.0)}, "luma"),
        ({"chroma_gain": (-0.5, 1.0)}, "chroma_gain"),
    ],
)
def test_bad_shaping_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NoiseShaping(**kwargs)


def test_shaped_camera_noise_is_blotchier_in_colour():
    clean = torch.from_numpy(photo(64, 64)).permute(2, 0, 1)[None].repeat(4, 1, 1, 1)

    def colour_residual(shaping: NoiseShaping) -> torch.Tensor:
        noise = CameraNoise(jpeg_p=0.0, gaussian_p=0.0, shot_range=(4e-3, 4e-3), shaping=shaping)
        return to_opponent(synthesise(clean, noise, torch.Generator().manual_seed(2)) - clean)[:, 1:]

    plain = colour_residual(NoiseShaping(p=0.0))
    shaped = colour_residual(
        NoiseShaping(p=1.0, chroma_sigma=(2.5, 2.5), luma_amount=(0.0, 0.0), chroma_gain=(1.0, 1.0))
    )
    assert shaped.std() < plain.std()
    assert _neighbour_correlation(shaped) > _neighbour_correlation(plain) + 0.1
