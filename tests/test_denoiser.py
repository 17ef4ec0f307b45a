"""The Denoiser API and checkpoints: loading, routing grey/colour, tiling, sigma forms, ensemble, errors."""

import numpy as np
import pytest
import torch

from denoise import Denoiser
from denoise.baselines.bilateral import bilateral_denoise
from denoise.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from denoise.denoiser import BLIND_ENSEMBLE, ensemble_views
from denoise.models import create_model
from denoise.transforms import dihedral, dihedral_inverse
from denoise.transforms.dihedral import ENSEMBLE_ORDER
from tests.helpers import photo, random_checkpoint


@pytest.fixture(scope="module")
def colour_checkpoint(tmp_path_factory):
    return random_checkpoint(tmp_path_factory.mktemp("ckpt") / "colour.pt")


@pytest.fixture(scope="module")
def denoiser(colour_checkpoint):
    return Denoiser.from_checkpoint(str(colour_checkpoint), device="cpu")


def test_checkpoint_round_trip(tmp_path):
    model = create_model("convnext_unet", encoding="haar", widths=(8, 16))
    save_checkpoint(tmp_path / "m.pt", model, steps=12)
    restored, metadata = load_checkpoint(tmp_path / "m.pt")
    assert metadata == {"steps": 12} and not restored.training
    noisy = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model.eval()(noisy, 0.1), restored(noisy, 0.1))


def test_bad_checkpoints_are_refused_clearly(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"\x00not a checkpoint" * 10)
    with pytest.raises(CheckpointError, match="corrupt or not a torch file"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": 1}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a denoise checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    random_checkpoint(tmp_path / "m.pt")
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    payload["model_config"]["widths"] = (8, 8)
    torch.save(payload, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="does not match its network"):
        load_checkpoint(tmp_path / "mismatch.pt")


def test_no_shipped_checkpoint_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("DENOISE_CHECKPOINTS", str(tmp_path))
    with pytest.raises(CheckpointError, match="no trained checkpoint ships .* --method bilateral"):
        Denoiser.from_checkpoint()


def test_shipped_defaults_route_grey_and_colour(tmp_path, monkeypatch):
    random_checkpoint(tmp_path / "denoise-colour.pt", channels=3)
    random_checkpoint(tmp_path / "denoise-grey.pt", channels=1)
    monkeypatch.setenv("DENOISE_CHECKPOINTS", str(tmp_path))
    denoiser = Denoiser.from_checkpoint(device="cpu")
    grey_model, _ = load_checkpoint(tmp_path / "denoise-grey.pt")
    grey = photo(64, 64, grey=True)
    with torch.no_grad():
        expected = grey_model(torch.from_numpy(grey)[None, None], 0.1)[0, 0].numpy()
    assert denoiser.used_name == denoiser.name  # nothing denoised yet: every file loaded
    np.testing.assert_allclose(denoiser(grey, 0.1), expected, atol=1e-6)
    assert denoiser.used_name == "the shipped denoise-grey.pt"  # what a report names: the file that denoised
    denoiser.tile_count((64, 64, 3))  # asking is not denoising
    assert denoiser.used == ["denoise-grey.pt"]
    assert denoiser(photo(64, 64), 0.1).shape == (64, 64, 3)
    assert denoiser.used_name == "the shipped denoise-grey.pt, denoise-colour.pt"


def test_numpy_in_numpy_out_and_matches_the_network(denoiser, colour_checkpoint):
    noisy = photo(70, 90) + 0.05
    result = denoiser(noisy, 0.1)
    assert result.shape == noisy.shape and result.dtype == np.float32
    model, _ = load_checkpoint(colour_checkpoint)
    with torch.no_grad():  # one tile: the whole-image network
        expected = model(torch.from_numpy(noisy).permute(2, 0, 1)[None], 0.1)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(result, expected, atol=1e-5)  # channels_last convolutions round differently
    eager = Denoiser.from_checkpoint(str(colour_checkpoint), device="cpu", channels_last=False)
    np.testing.assert_array_equal(eager(noisy, 0.1), expected)  # the NCHW path is exactly the network


def test_tensor_batches(denoiser):
    batch = torch.rand(2, 3, 40, 56)
    result = denoiser(batch, 0.1)
    assert result.shape == batch.shape and result.dtype == batch.dtype
    assert torch.equal(result[1:], denoiser(batch[1:], 0.1))


def test_values_outside_unit_range_reach_the_network_unclipped(tmp_path):
    model = create_model("unet", widths=(8, 16))
    torch.nn.init.zeros_(model.last_layer.weight)
    torch.nn.init.zeros_(model.last_layer.bias)
    save_checkpoint(tmp_path / "identity.pt", model)
    noisy = photo(40, 40) * 1.6 - 0.3
    assert np.array_equal(Denoiser.from_checkpoint(str(tmp_path / "identity.pt"), device="cpu")(noisy, 0.1), noisy)


def test_sigma_map_equals_constant_sigma(denoiser):
    noisy = photo(64, 80)
    constant = denoiser(noisy, 0.1)
    np.testing.assert_allclose(denoiser(noisy, np.full((64, 80), 0.1, np.float32)), constant, atol=1e-5)
    np.testing.assert_allclose(denoiser(noisy, np.full((64, 80, 3), 0.1, np.float32)), constant, atol=1e-5)
    assert not np.allclose(denoiser(noisy, np.linspace(0, 0.3, 80, dtype=np.float32)[None].repeat(64, 0)), constant)


def test_tiled_api_close_to_untiled(colour_checkpoint):
    noisy = photo(200, 260)
    untiled = Denoiser.from_checkpoint(str(colour_checkpoint), device="cpu")(noisy, 0.1)
    tiled = Denoiser.from_checkpoint(str(colour_checkpoint), device="cpu", tile=96, overlap=32)(noisy, 0.1)
    assert np.abs(tiled - untiled).max() < 2 / 255


def test_ensemble_averages_the_eight_transforms(denoiser, colour_checkpoint):
    noisy = photo(64, 96)  # one tile, no padding: the ensemble within the tile is the whole image's
    model, _ = load_checkpoint(colour_checkpoint)
    tensor = torch.from_numpy(noisy).permute(2, 0, 1)[None]
    with torch.no_grad():
        expected = sum(dihedral_inverse(model(dihedral(tensor, k), 0.1), k) for k in range(8)) / 8
    np.testing.assert_allclose(denoiser(noisy, 0.1, ensemble=True), expected[0].permute(1, 2, 0).numpy(), atol=1e-6)


@pytest.mark.parametrize("views", [2, 4])
def test_an_ensemble_of_n_views_averages_the_first_n_of_its_order(denoiser, colour_checkpoint, views):
    noisy = photo(64, 96)
    model, _ = load_checkpoint(colour_checkpoint)
    tensor = torch.from_numpy(noisy).permute(2, 0, 1)[None]
    with torch.no_grad():
        expected = sum(dihedral_inverse(model(dihedral(tensor, k), 0.1), k) for k in ENSEMBLE_ORDER[:views]) / views
    np.testing.assert_allclose(denoiser(noisy, 0.1, ensemble=views), expected[0].permute(1, 2, 0).numpy(), atol=1e-6)
    assert np.array_equal(denoiser(noisy, 0.1), denoiser(noisy, 0.1, ensemble=1))  # a given sigma: one view
    by_indices = denoiser(noisy, 0.1, ensemble=ENSEMBLE_ORDER[:views])
    assert np.array_equal(by_indices, denoiser(noisy, 0.1, ensemble=views))


def test_a_tiled_ensemble_agrees_with_the_untiled_one(colour_checkpoint):
    noisy = photo(200, 260)
    untiled = Denoiser.from_checkpoint(str(colour_checkpoint), device="cpu")(noisy, 0.1, ensemble=2)
    tiled = Denoiser.from_checkpoint(str(colour_checkpoint), device="cpu", tile=96, overlap=32)(noisy, 0.1, ensemble=2)
    assert np.abs(tiled - untiled).max() < 2 / 255


def test_a_classical_methods_ensemble_averages_its_whole_image_views():
    noisy = photo(50, 70)

    def anti_transpose(image):  # ENSEMBLE_ORDER[1]: pixel (i, j) from (W-1-j, H-1-i)
        return np.ascontiguousarray(image[::-1, ::-1].transpose(1, 0, 2))

    expected = (bilateral_denoise(noisy, 0.1) + anti_transpose(bilateral_denoise(anti_transpose(noisy), 0.1))) / 2
    out = Denoiser.from_method("bilateral", device="cpu")(noisy, 0.1, ensemble=2)
    np.testing.assert_allclose(out, expected.reshape(out.shape), atol=1e-6)


def test_ensemble_views_by_mode_and_request():
    assert ensemble_views(None, BLIND_ENSEMBLE) == ENSEMBLE_ORDER[:BLIND_ENSEMBLE] and BLIND_ENSEMBLE == 2
    assert ensemble_views(None, 1) == ensemble_views(False, BLIND_ENSEMBLE) == (0,)
    assert ensemble_views(True, 1) == ENSEMBLE_ORDER and ensemble_views(4, BLIND_ENSEMBLE) == ENSEMBLE_ORDER[:4]
    assert ensemble_views((0, 5), 1) == (0, 5)
    for bad in (3, 0, (0, 0), (0, 8), ()):
        with pytest.raises(ValueError, match="a count of 1, 2, 4, 8 views, or distinct transform indices"):
            ensemble_views(bad, 1)


def test_bilateral_method_is_the_baseline():
    noisy = photo(50, 70)
    assert np.array_equal(Denoiser.from_method("bilateral", device="cpu")(noisy, 0.1), bilateral_denoise(noisy, 0.1))
    assert Denoiser.from_method("bilateral", device="cpu")(photo(50, 70, grey=True), 0.1).shape == (50, 70)


@pytest.mark.parametrize(
    "sigma, message",
    [(-0.1, ">= 0"), (float("nan"), ">= 0"), (25.0, "above 1: .* 0.0980")],
)
def test_bad_sigma(denoiser, sigma, message):
    with pytest.raises(ValueError, match=message):
        denoiser(photo(32, 32), sigma)


def test_bad_images(denoiser):
    with pytest.raises(ValueError, match="denoises 3-channel images; this image has 1"):
        denoiser(photo(32, 32, grey=True), 0.1)
    nan_image = photo(32, 32)
    nan_image[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        denoiser(nan_image, 0.1)
    with pytest.raises(ValueError, match="does not match the image"):
        denoiser(photo(32, 32), np.zeros((16, 16), np.float32))
    with pytest.raises(ValueError, match="unknown method 'median'"):
        Denoiser.from_method("median")


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_integer_pixels_come_back_in_their_own_depth(denoiser, dtype):
    peak = np.iinfo(dtype).max
    pixels = np.rint(photo(32, 40) * peak).astype(dtype)
    out = denoiser(pixels, 0.1)
    assert out.dtype == dtype and out.shape == pixels.shape
    expected = np.rint(np.clip(denoiser(pixels.astype(np.float32) / peak, 0.1), 0, 1) * peak).astype(dtype)
    np.testing.assert_array_equal(out, expected)
    tensor = (
        torch.from_numpy(pixels.astype(np.int32)).permute(2, 0, 1)[None].to(torch.uint8) if dtype == np.uint8 else None
    )
    if tensor is not None:
        batch = denoiser(tensor, 0.1)
        assert batch.dtype == torch.uint8
        np.testing.assert_array_equal(batch[0].permute(1, 2, 0).numpy(), expected)


def test_other_integer_pixels_are_refused(denoiser):
    with pytest.raises(ValueError, match="uint8 / uint16"):
        denoiser(np.zeros((32, 32, 3), np.int32), 0.1)


@pytest.mark.parametrize("ensemble", [False, True])
def test_tile_count_is_the_number_of_progress_ticks(colour_checkpoint, ensemble):
    denoiser = Denoiser.from_checkpoint(str(colour_checkpoint), device="cpu", tile=96, overlap=32)
    noisy = photo(150, 200)
    ticks = []
    denoiser(noisy, 0.1, ensemble=ensemble, progress=ticks.append)
    assert sum(ticks) == denoiser.tile_count(noisy.shape) > 1  # a tile ticks once, whatever the ensemble
    assert Denoiser.from_method("bilateral").tile_count(noisy.shape) is None
