"""Metrics and the evaluation protocol: conventions pinned down with hand-computed values."""

import math
import zlib

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from denoise.metrics import psnr, ssim, to_uint8
from denoise.protocol import add_noise, image_seed, score_image


def test_to_uint8_rounds_and_clips():
    values = np.array([-0.2, 0.0, 0.4 / 255, 0.6 / 255, 0.5, 1.0, 1.3], dtype=np.float32)
    assert to_uint8(values).tolist() == [0, 0, 0, 1, 128, 255, 255]


def test_psnr_hand_computed():
    clean = np.zeros((4, 4, 3), np.uint8)
    off_by_one = np.ones((4, 4, 3), np.uint8)  # MSE 1 -> 10 log10(255^2)
    assert psnr(clean, off_by_one) == pytest.approx(10 * math.log10(255**2))
    assert psnr(clean, clean) == math.inf


def test_psnr_is_one_mse_over_all_channels():
    rng = np.random.default_rng(0)
    clean = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    test = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    assert psnr(clean, test) == pytest.approx(peak_signal_noise_ratio(clean, test, data_range=255))
    per_channel_mean = np.mean([psnr(clean[..., c].copy(), test[..., c].copy()) for c in range(3)])
    assert psnr(clean, test) != pytest.approx(per_channel_mean, abs=1e-9)  # joint MSE, not a mean of PSNRs


def test_ssim_identity_and_grey_colour():
    rng = np.random.default_rng(0)
    colour = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    assert ssim(colour, colour) == pytest.approx(1.0)
    grey = colour[..., 0].copy()
    assert ssim(grey, np.clip(grey.astype(int) + 20, 0, 255).astype(np.uint8)) < 1.0


def test_metrics_reject_floats_and_mismatched_shapes():
    with pytest.raises(TypeError, match="uint8"):
        psnr(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="differ in shape"):
        ssim(np.zeros((8, 8), np.uint8), np.zeros((8, 9), np.uint8))


def test_image_seed_is_crc32_of_the_stem():
    assert image_seed("test/CBSD68/101085.png") == zlib.crc32(b"101085")
    assert image_seed("101085.png") == image_seed("other/101085.jpg")


def test_add_noise_is_seeded_unclipped_float32():
    clean = np.full((64, 64, 3), 0.98, np.float32)
    first = add_noise(clean, 0.1, seed=7)
    assert first.dtype == np.float32
    assert np.array_equal(first, add_noise(clean, 0.1, seed=7))
    assert not np.array_equal(first, add_noise(clean, 0.1, seed=8))
    assert first.max() > 1.0  # not clipped
    assert np.std(first - clean) == pytest.approx(0.1, rel=0.03)
    assert len(np.unique(first)) > 1000  # not quantised


def test_score_of_the_noisy_input_matches_theory():
    # a mid-grey image: no clipping; MSE = sigma^2 + 1/12 (uniform rounding error), in 8-bit units
    clean8 = np.full((256, 256, 3), 128, np.uint8)
    score = score_image(lambda noisy, sigma: noisy, clean8, 25.0, seed=1)
    assert score.psnr == pytest.approx(10 * math.log10(255**2 / (25**2 + 1 / 12)), abs=0.05)
    assert score.megapixels == pytest.approx(256 * 256 / 1e6)
    assert score.seed == 1


def test_score_rejects_a_method_that_changes_the_shape():
    with pytest.raises(ValueError, match="returned shape"):
        score_image(lambda noisy, sigma: noisy[:-1], np.zeros((8, 8), np.uint8), 25.0, seed=0)
