"""Encodings: exact inverses, energy, gradients, reference values, module == function, errors."""

import numpy as np
import pytest
import scipy.fft
import torch
import torch.nn.functional as F

from denoise.transforms import (
    BlockDCT,
    HaarDWT,
    RgbToYcbcr,
    SpaceToDepth,
    block_dct,
    block_idct,
    depth_to_space,
    haar_dwt,
    haar_idwt,
    merge_phases,
    rgb_to_ycbcr,
    space_to_depth,
    split_phases,
    ycbcr_to_rgb,
)
from denoise.transforms.block import check_orthonormal

# (name, forward, inverse, factor) for every transform under test
PAIRS = [
    ("space_to_depth_r2", lambda x: space_to_depth(x, 2), lambda y: depth_to_space(y, 2), 2),
    ("space_to_depth_r4", lambda x: space_to_depth(x, 4), lambda y: depth_to_space(y, 4), 4),
    ("dct_k2", lambda x: block_dct(x, 2), lambda y: block_idct(y, 2), 2),
    ("dct_k4", lambda x: block_dct(x, 4), lambda y: block_idct(y, 4), 4),
    ("dct_k8", lambda x: block_dct(x, 8), lambda y: block_idct(y, 8), 8),
    ("dct_k16", lambda x: block_dct(x, 16), lambda y: block_idct(y, 16), 16),
    ("dct_k3", lambda x: block_dct(x, 3), lambda y: block_idct(y, 3), 3),
    ("haar", haar_dwt, haar_idwt, 2),
]
IDS = [pair[0] for pair in PAIRS]


def _image(factor, channels=3, dtype=torch.float64, batch=2):
    return torch.randn(batch, channels, 2 * factor, 3 * factor, dtype=dtype)


@pytest.mark.parametrize("name, forward, inverse, factor", PAIRS, ids=IDS)
def test_cardinality(name, forward, inverse, factor):
    x = _image(factor)
    y = forward(x)
    assert y.shape == (2, 3 * factor * factor, 2, 3)
    assert inverse(y).shape == x.shape


@pytest.mark.parametrize("name, forward, inverse, factor", PAIRS, ids=IDS)
def test_inverse_is_exact_float64(name, forward, inverse, factor):
    x = _image(factor)
    assert torch.allclose(inverse(forward(x)), x, atol=1e-10, rtol=0)
    y = torch.randn_like(forward(x))  # also forward(inverse(y)) == y: a bijection, not just a left inverse
    assert torch.allclose(forward(inverse(y)), y, atol=1e-10, rtol=0)


@pytest.mark.parametrize("name, forward, inverse, factor", PAIRS, ids=IDS)
def test_energy_preserved(name, forward, inverse, factor):
    x = _image(factor)
    assert torch.allclose(forward(x).pow(2).sum(), x.pow(2).sum(), rtol=1e-12)


@pytest.mark.parametrize("name, forward, inverse, factor", PAIRS, ids=IDS)
def test_float32_inverse(name, forward, inverse, factor):
    x = _image(factor, dtype=torch.float32)
    y = forward(x)
    assert y.dtype == torch.float32
    assert torch.allclose(inverse(y), x, atol=1e-5)


@pytest.mark.parametrize("name, forward, inverse, factor", PAIRS, ids=IDS)
def test_gradcheck(name, forward, inverse, factor):
    x = torch.randn(1, 2, factor, factor, dtype=torch.float64, requires_grad=True)  # one block per channel
    assert torch.autograd.gradcheck(forward, (x,))
    y = forward(x.detach()).requires_grad_()
    assert torch.autograd.gradcheck(inverse, (y,))


def test_space_to_depth_matches_pixel_unshuffle():
    x = torch.randn(2, 3, 8, 12)
    for r in (1, 2, 4):
        assert torch.equal(space_to_depth(x, r), F.pixel_unshuffle(x, r))
        assert torch.equal(depth_to_space(space_to_depth(x, r), r), F.pixel_shuffle(F.pixel_unshuffle(x, r), r))


@pytest.mark.parametrize("k", [2, 4, 8, 16])
def test_dct_matches_scipy_per_block(k):
    x = torch.randn(1, 2, 2 * k, 3 * k, dtype=torch.float64)
    coefficients = block_dct(x, k).reshape(1, 2, k, k, 2, 3)  # (B, C, u, v, block_row, block_col)
    image = x.numpy()
    for channel in range(2):
        for row in range(2):
            for col in range(3):
                block = image[0, channel, row * k : (row + 1) * k, col * k : (col + 1) * k]
                expected = scipy.fft.dctn(block, type=2, norm="ortho")
                np.testing.assert_allclose(coefficients[0, channel, :, :, row, col].numpy(), expected, atol=1e-12)


def test_dct_dc_channel_is_block_mean_times_k():
    x = torch.rand(1, 1, 8, 8, dtype=torch.float64)
    dc = block_dct(x, 4)[:, 0]  # DC coefficient of each 4x4 block
    assert torch.allclose(dc, F.avg_pool2d(x, 4)[:, 0] * 4)


def test_haar_hand_computed_2x2():
    # block [[a, b], [c, d]] = [[1, 2], [3, 4]]:
    # LL = (1+2+3+4)/2 = 5, LH = (1+2-3-4)/2 = -2, HL = (1-2+3-4)/2 = -1, HH = (1-2-3+4)/2 = 0
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=torch.float64)
    assert haar_dwt(x).flatten().tolist() == [5.0, -2.0, -1.0, 0.0]


def test_haar_equals_dct_k2_up_to_band_order():
    x = torch.randn(1, 1, 4, 4, dtype=torch.float64)
    dct = block_dct(x, 2)  # channels (u, v): (0,0), (0,1), (1,0), (1,1)
    haar = haar_dwt(x)  # LL, LH (high along height = u), HL (high along width = v), HH
    assert torch.allclose(haar, dct[:, [0, 2, 1, 3]], atol=1e-12)


def test_ycbcr_forward_is_kornia_and_inverse_exact():
    import kornia

    rgb = torch.rand(2, 3, 5, 7, dtype=torch.float64) * 1.4 - 0.2  # noisy values outside [0, 1] too
    assert torch.equal(rgb_to_ycbcr(rgb), kornia.color.rgb_to_ycbcr(rgb))
    assert torch.allclose(ycbcr_to_rgb(rgb_to_ycbcr(rgb)), rgb, atol=1e-12)
    x = torch.rand(1, 3, 16, 16, dtype=torch.float64)
    assert torch.allclose(block_idct(block_dct(x, 8, ycbcr=True), 8, ycbcr=True), x, atol=1e-10)


@pytest.mark.parametrize(
    "module, forward, inverse",
    [
        (SpaceToDepth(2), lambda x: space_to_depth(x, 2), lambda y: depth_to_space(y, 2)),
        (BlockDCT(4), lambda x: block_dct(x, 4), lambda y: block_idct(y, 4)),
        (BlockDCT(8, ycbcr=True), lambda x: block_dct(x, 8, True), lambda y: block_idct(y, 8, True)),
        (HaarDWT(), haar_dwt, haar_idwt),
        (RgbToYcbcr(), rgb_to_ycbcr, ycbcr_to_rgb),
    ],
    ids=["space_to_depth", "dct", "dct_ycbcr", "haar", "ycbcr"],
)
def test_module_equals_function(module, forward, inverse):
    x = torch.randn(2, 3, 16, 16)
    assert torch.equal(module(x), forward(x))
    assert torch.equal(module.inverse(module(x)), inverse(forward(x)))
    assert torch.equal(module.double()(x.double()), forward(x.double()))


@pytest.mark.parametrize("forward, factor", [(space_to_depth, 2), (haar_dwt, 2), (lambda x: block_dct(x, 8), 8)])
def test_not_divisible_raises_clear_error(forward, factor):
    with pytest.raises(ValueError, match=rf"size 9x10 is not divisible by the block factor {factor}"):
        forward(torch.zeros(1, 1, 9, 10))


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match=r"must have shape \(B, C, H, W\)"):
        haar_dwt(torch.zeros(4, 4))
    with pytest.raises(TypeError, match="floating tensor"):
        haar_dwt(torch.zeros(1, 1, 4, 4, dtype=torch.uint8))
    with pytest.raises(ValueError, match="DCT block size must be >= 2"):
        block_dct(torch.zeros(1, 1, 4, 4), 1)
    with pytest.raises(ValueError, match="3 channels for a YCbCr"):
        rgb_to_ycbcr(torch.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match="not orthonormal"):
        check_orthonormal(torch.ones(4, 2, 2))
    with pytest.raises(ValueError, match="not a multiple of the 4 patterns"):
        haar_idwt(torch.zeros(1, 3, 2, 2))


@pytest.mark.parametrize("r", [2, 3])
def test_phase_split_inverts_and_keeps_each_phase_a_subsampled_image(r):
    x = torch.randn(2, 3, 4 * r, 5 * r, dtype=torch.float64)
    phases = split_phases(x, r)
    assert phases.shape == (2 * r * r, 3, 4, 5)
    assert torch.equal(merge_phases(phases, r), x)
    y = torch.randn_like(phases)
    assert torch.equal(split_phases(merge_phases(y, r), r), y)  # a bijection
    assert torch.equal(phases[r * r + r + 1], x[1, :, 1::r, 1::r])  # image 1's phase (1, 1)
    with pytest.raises(ValueError, match="whole images"):
        merge_phases(phases[:-1], r)
