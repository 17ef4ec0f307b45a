"""Blind noise estimation and the CLI's --sigma (optional), --strength and --sigma-map."""

import warnings

import numpy as np
import pytest
import torch

from denoise import Denoiser
from denoise.infer import main as infer_main
from denoise.io import ImageData, read_image, write_image
from denoise.noise_estimation import estimate_sigma
from tests.helpers import photo, random_checkpoint


@pytest.mark.parametrize("sigma255", [5, 15, 25, 50])
@pytest.mark.parametrize("grey", [False, True], ids=["colour", "grey"])
def test_estimate_within_ten_percent_on_a_photo(sigma255, grey):
    clean = photo(256, 256, grey=grey)
    noisy = clean + sigma255 / 255 * np.random.default_rng(sigma255).standard_normal(clean.shape).astype(np.float32)
    assert estimate_sigma(noisy) * 255 == pytest.approx(sigma255, rel=0.1)


def test_clean_image_estimates_little_noise():
    assert estimate_sigma(photo(256, 256)) * 255 < 3


def test_api_estimates_numpy_and_tensor_batches():
    noisy = photo(128, 128) + 0.1 * np.random.default_rng(0).standard_normal((128, 128, 3)).astype(np.float32)
    single = Denoiser.estimate_sigma(noisy)
    assert single == pytest.approx(0.1, rel=0.1)
    batch = Denoiser.estimate_sigma(torch.from_numpy(noisy).permute(2, 0, 1)[None].repeat(2, 1, 1, 1))
    assert batch.shape == (2,) and batch[0].item() == pytest.approx(single, rel=1e-5)
    with pytest.raises(ValueError, match="at least 7x7"):
        estimate_sigma(np.zeros((4, 4)))


@pytest.fixture
def noisy_file(tmp_path):
    clean = photo(64, 80)
    noisy = np.clip(clean + 0.08 * np.random.default_rng(1).standard_normal(clean.shape), 0, 1)
    write_image(tmp_path / "n.png", ImageData(np.round(noisy * 255).astype(np.uint8)))
    return tmp_path / "n.png"


def test_cli_without_sigma_estimates_and_prints_it(noisy_file, tmp_path, capsys):
    checkpoint = random_checkpoint(tmp_path / "m.pt")
    assert infer_main([str(noisy_file), "--checkpoint", str(checkpoint), "-o", str(tmp_path / "blind.png")]) == 0
    line = [text for text in capsys.readouterr().err.splitlines() if "estimated sigma" in text][0]
    estimated = float(line.split("estimated sigma ")[1].split()[0])
    assert estimated == pytest.approx(0.08, rel=0.15)
    exact = Denoiser.estimate_sigma(read_image(noisy_file).to_float())
    assert (
        infer_main(
            [
                str(noisy_file),
                "--checkpoint",
                str(checkpoint),
                "--sigma",
                repr(exact),
                "-o",
                str(tmp_path / "given.png"),
            ]
        )
        == 0
    )
    assert np.array_equal(read_image(tmp_path / "blind.png").pixels, read_image(tmp_path / "given.png").pixels)


def test_strength_scales_sigma(noisy_file, tmp_path):
    base = [str(noisy_file), "--method", "bilateral", "-q"]
    assert infer_main([*base, "--sigma", "0.1", "--strength", "0.5", "-o", str(tmp_path / "a.png")]) == 0
    assert infer_main([*base, "--sigma", "0.05", "-o", str(tmp_path / "b.png")]) == 0
    assert np.array_equal(read_image(tmp_path / "a.png").pixels, read_image(tmp_path / "b.png").pixels)
    assert infer_main([*base, "--sigma", "0.1", "--strength", "0", "-o", str(tmp_path / "c.png")]) == 2


def test_sigma_map_from_png_and_npy(noisy_file, tmp_path, capsys):
    checkpoint = str(random_checkpoint(tmp_path / "m.pt"))
    write_image(tmp_path / "map.png", ImageData(np.full((64, 80), 26, np.uint8)))  # 26/255 ~ 0.102
    np.save(tmp_path / "map.npy", np.full((64, 80), 26 / 255, np.float32))
    outputs = {}
    for name, option in {
        "png": ["--sigma-map", str(tmp_path / "map.png")],
        "npy": ["--sigma-map", str(tmp_path / "map.npy")],
        "scalar": ["--sigma", repr(26 / 255)],
    }.items():
        assert (
            infer_main([str(noisy_file), "--checkpoint", checkpoint, *option, "-o", str(tmp_path / f"{name}.png")]) == 0
        )
        outputs[name] = read_image(tmp_path / f"{name}.png").pixels.astype(int)
    assert np.abs(outputs["png"] - outputs["npy"]).max() == 0
    assert np.abs(outputs["png"] - outputs["scalar"]).max() <= 1
    np.save(tmp_path / "small.npy", np.zeros((10, 10), np.float32))
    capsys.readouterr()
    assert infer_main([str(noisy_file), "--checkpoint", checkpoint, "--sigma-map", str(tmp_path / "small.npy")]) == 2
    assert "is 10x10, the image 80x64" in capsys.readouterr().err


def test_a_noiseless_image_gives_zero_without_warnings():
    flat = np.zeros((64, 64, 3), np.float32)
    ramp = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (64, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning printed to the user fails here
        assert estimate_sigma(flat) == 0.0
        assert estimate_sigma(ramp) < 1e-3
