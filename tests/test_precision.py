"""Inference precision: float32 by default, bfloat16 only where the hardware computes it, float32 output."""

import numpy as np
import pytest
import torch

from denoise import Denoiser
from denoise.infer import main
from denoise.io import ImageData, write_image
from denoise.precision import PRECISIONS, autocast, native_bfloat16, resolve_precision
from tests.helpers import photo, random_checkpoint

CPU = torch.device("cpu")
needs_bfloat16 = pytest.mark.skipif(not native_bfloat16(CPU), reason="this CPU has no native bfloat16")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return random_checkpoint(tmp_path_factory.mktemp("ckpt") / "random.pt")


def test_float32_is_the_default_and_changes_nothing(checkpoint):
    assert resolve_precision("float32", CPU) == torch.float32
    noisy = photo(40, 56) + 0.1 * np.random.default_rng(0).standard_normal((40, 56, 3)).astype(np.float32)
    default = Denoiser.from_checkpoint(str(checkpoint), device="cpu")(noisy, 0.1)
    stated = Denoiser.from_checkpoint(str(checkpoint), device="cpu", precision="float32")(noisy, 0.1)
    np.testing.assert_array_equal(default, stated)
    with autocast(torch.float32, CPU):
        assert torch.nn.functional.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 1, 1)).dtype == torch.float32


def test_unknown_precision_lists_the_choices():
    with pytest.raises(ValueError, match="unknown precision 'half'; choose one of bfloat16, float32"):
        resolve_precision("half", CPU)
    assert sorted(PRECISIONS) == ["bfloat16", "float32"]


def test_bfloat16_is_refused_where_it_would_be_emulated(monkeypatch, tmp_path, checkpoint, capsys):
    monkeypatch.setattr("denoise.precision.native_bfloat16", lambda device: False)
    with pytest.raises(ValueError, match="no AVX512-BF16 or AMX.*use --precision float32"):
        resolve_precision("bfloat16", CPU)
    image = tmp_path / "photo.png"
    write_image(image, ImageData(np.round(photo(40, 56) * 255).astype(np.uint8)))
    code = main([str(image), "--sigma", "0.1", "--checkpoint", str(checkpoint), "--precision", "bfloat16"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("error:") == 1 and "Traceback" not in err
    assert not image.with_name("photo_denoised.png").exists()


@needs_bfloat16
def test_bfloat16_output_is_float32_and_close_to_float32_inference(checkpoint):
    """Only the noise estimate is rounded: the output stays within a small fraction of a grey level of
    float32 inference on a photo, tiled or not, for a number sigma and a per-pixel map."""
    clean = photo(72, 104)
    noisy = clean + 0.1 * np.random.default_rng(1).standard_normal(clean.shape).astype(np.float32)
    sigma_map = np.full(clean.shape[:2], 0.1, dtype=np.float32)
    for tile, sigma in ((None, 0.1), (96, sigma_map)):
        exact = Denoiser.from_checkpoint(str(checkpoint), device="cpu", tile=tile)(noisy, sigma)
        fast = Denoiser.from_checkpoint(str(checkpoint), device="cpu", tile=tile, precision="bfloat16")(noisy, sigma)
        assert fast.dtype == np.float32 and fast.shape == exact.shape
        difference = np.abs(fast - exact)
        assert 0 < difference.max() < 0.5 / 255  # rounded, yet under half a grey level
        assert np.sqrt(np.mean(difference**2)) < 0.05 / 255
