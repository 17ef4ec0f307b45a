"""The camera pipeline and its inverse (Brooks et al. 2019), and the synthetic camera noise built on it."""

from pathlib import Path

import kornia
import pytest
import torch

from denoise import Denoiser
from denoise.checkpoint import load_checkpoint, save_checkpoint
from denoise.data.camera import (
    CameraParams,
    add_sensor_noise,
    apply_ccm,
    apply_gains,
    demosaic,
    gamma_compression,
    gamma_expansion,
    inverse_smoothstep,
    invert_gains,
    mosaic,
    process,
    random_noise_levels,
    smoothstep,
    unprocess,
)
from denoise.data.camera_noise import RECIPE as CAMERA_NOISE_RECIPE
from denoise.data.camera_noise import CameraNoise, jpeg, synthesise
from denoise.denoiser import BLIND_ENSEMBLE
from denoise.infer import main as infer_main
from denoise.io import ImageData, write_image
from denoise.models import create_model
from denoise.sigma import NoiseLevel
from denoise.train import main as train_main
from denoise.training.lit_module import DenoiseLitModule
from tests.helpers import photo


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _patches(batch: int = 4) -> torch.Tensor:
    image = torch.from_numpy(photo(64, 64)).permute(2, 0, 1)
    return image[None].repeat(batch, 1, 1, 1) * 0.8 + 0.05  # no highlights: the gains invert exactly


def test_every_step_has_its_inverse():
    x = torch.linspace(0, 1, 101)
    torch.testing.assert_close(smoothstep(inverse_smoothstep(x)), x, atol=1e-6, rtol=0)
    torch.testing.assert_close(gamma_compression(gamma_expansion(x[1:])), x[1:], atol=1e-6, rtol=0)
    params = CameraParams.random(4, generator=_generator())
    rgb = _patches()
    inverse = torch.linalg.inv(params.rgb_to_camera)
    torch.testing.assert_close(apply_ccm(apply_ccm(rgb, params.rgb_to_camera), inverse), rgb, atol=1e-5, rtol=0)
    dark = rgb * 0.3  # below the highlight knee, the safe inverse is the plain one
    torch.testing.assert_close(apply_gains(invert_gains(dark, params), params), dark, atol=1e-6, rtol=0)


def test_processing_undoes_unprocessing():
    params = CameraParams.random(4, generator=_generator(1))
    srgb = _patches() * 0.7
    torch.testing.assert_close(process(unprocess(srgb, params), params), srgb, atol=2e-3, rtol=0)


def test_random_cameras_are_valid():
    params = CameraParams.random(64, generator=_generator(2))
    torch.testing.assert_close(params.rgb_to_camera.sum(dim=2), torch.ones(64, 3), atol=1e-5, rtol=0)
    assert (params.red_gain >= 1.9).all() and (params.red_gain <= 2.4).all()
    assert (params.blue_gain >= 1.5).all() and (params.blue_gain <= 1.9).all() and (params.rgb_gain > 0).all()


def test_a_mosaic_keeps_one_colour_per_pixel_and_demosaicking_restores_flat_colour():
    flat = torch.tensor([0.2, 0.5, 0.8]).reshape(1, 3, 1, 1).expand(2, 3, 8, 10).contiguous()
    bayer = mosaic(flat)
    assert bayer.shape == (2, 1, 8, 10)
    assert (
        bayer[0, 0, 0, 0] == 0.2 and bayer[0, 0, 0, 1] == 0.5 and bayer[0, 0, 1, 0] == 0.5 and bayer[0, 0, 1, 1] == 0.8
    )
    torch.testing.assert_close(demosaic(bayer)[..., 2:-2, 2:-2], flat[..., 2:-2, 2:-2], atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="even height and width"):
        mosaic(torch.zeros(1, 3, 5, 6))


def test_sensor_noise_has_the_shot_and_read_variance():
    raw = torch.full((2, 1, 256, 256), 0.25)
    shot, read = torch.tensor([0.01, 0.0001]), torch.tensor([0.001, 0.00001])
    noisy = add_sensor_noise(raw, shot, read, _generator(3))
    measured = (noisy - raw).var(dim=(1, 2, 3))
    torch.testing.assert_close(measured, shot * 0.25 + read, rtol=0.05, atol=0)


def test_noise_levels_follow_the_shot_read_line():
    shot, read = random_noise_levels(4000, generator=_generator(4))
    assert shot.min() >= 1e-4 and shot.max() <= 1.2e-2
    slope = torch.cov(torch.stack([shot.log(), read.log()]))[0, 1] / shot.log().var()
    assert slope.item() == pytest.approx(2.18, abs=0.05)


def test_jpeg_round_trip_is_close_at_high_quality():
    image = _patches(1)[0]
    assert (jpeg(image, 95) - image).abs().mean() < 0.01
    assert (jpeg(image, 20) - image).abs().mean() > (jpeg(image, 95) - image).abs().mean()


@pytest.mark.parametrize("channels", [3, 1])
def test_synthetic_camera_noise_is_correlated_and_reproducible(channels):
    clean = _patches(8)
    clean = clean if channels == 3 else kornia.color.rgb_to_grayscale(clean)  # a grey photo: the camera's luma
    noise = CameraNoise(jpeg_p=0.0, gaussian_p=0.0, shot_range=(5e-3, 5e-3))
    first = synthesise(clean, noise, _generator(5))
    assert torch.equal(first, synthesise(clean, noise, _generator(5)))
    assert first.shape == clean.shape and first.min() >= 0 and first.max() <= 1
    residual = (first - clean)[..., 8:-8, 8:-8]
    assert residual.std() > 0.01  # noise was added
    # demosaicking spreads each sensor pixel's noise: neighbours' residuals correlate, unlike white noise
    right = torch.corrcoef(torch.stack([residual[..., :, :-1].flatten(), residual[..., :, 1:].flatten()]))[0, 1]
    assert right > 0.2
    white = synthesise(clean, CameraNoise(gaussian_p=1.0, jpeg_p=0.0), _generator(6)) - clean
    right_white = torch.corrcoef(torch.stack([white[..., :, :-1].flatten(), white[..., :, 1:].flatten()]))[0, 1]
    assert abs(right_white) < 0.05


@pytest.mark.parametrize("channels", [3, 1])
def test_camera_noise_is_the_noise_alone_not_the_demosaicking_error(channels):
    # a textured patch at a vanishing ISO: the noisy patch is the clean one; bilinear demosaicking alone would
    # have moved it by several grey levels, which a real photo's reference (the mean of many shots) also has
    clean = _patches(4)
    clean = clean if channels == 3 else kornia.color.rgb_to_grayscale(clean)
    quiet = CameraNoise(jpeg_p=0.0, gaussian_p=0.0, shot_range=(1e-9, 1e-9))
    noisy = synthesise(clean, quiet, _generator(3))
    assert (noisy - clean).abs().max() < 2e-3
    params = CameraParams.random(4, generator=_generator(3))
    demosaicked = process(demosaic(mosaic(unprocess(clean.expand(-1, 3, -1, -1), params))), params)
    assert (demosaicked - clean.expand(-1, 3, -1, -1)).abs().mean() > 20 * (noisy - clean).abs().mean()


@pytest.mark.parametrize(
    "kwargs, message",
    [({"shot_range": (0.0, 1.0)}, "0 < low"), ({"jpeg_quality": (90, 50)}, "jpeg_quality"), ({"jpeg_p": 2}, "jpeg_p")],
)
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CameraNoise(**kwargs)


def test_camera_noise_takes_rgb_or_grey_patches_only():
    with pytest.raises(ValueError, match="RGB or .* grey patches"):
        synthesise(torch.rand(1, 4, 16, 16), CameraNoise())


def test_the_blind_model_adopts_a_unet_and_estimates_its_own_level():
    unet = create_model("unet", widths=[8, 16])
    blind = create_model("blind_unet", widths=[8, 16])
    assert blind.adopt(unet) and not blind.adopt(create_model("unet", widths=[8, 32]))
    noisy = _patches(2)[..., :32, :32]
    with torch.no_grad():
        torch.testing.assert_close(blind(noisy, 0.1), unet(noisy, 0.1))  # with a level given: the UNet itself
        level = blind.estimate(noisy)
        assert level.shape == noisy.shape and (level >= 0).all()
        torch.testing.assert_close(blind(noisy), unet(noisy, level))


@pytest.mark.parametrize("channels", [3, 1])
def test_a_blind_model_trains_on_camera_noise(tmp_path, monkeypatch, channels):
    import skimage.data

    monkeypatch.chdir(tmp_path)
    for index, image in enumerate([skimage.data.astronaut(), skimage.data.coffee()]):
        write_image(tmp_path / "train" / f"{index}.png", ImageData(image[:160, :200]))
        write_image(tmp_path / "val" / f"{index}.png", ImageData(image[200:264, 200:296]))
    smoke = Path(__file__).resolve().parents[1] / "configs" / "smoke.yaml"
    data = [f"--data.train_sets=[{tmp_path / 'train'}]", f"--data.val_set={tmp_path / 'val'}"]
    args = ["fit", "--config", str(smoke), *data, "--model.net.class_path=denoise.models.BlindUNetDenoiser",
            "--model.net.init_args.widths=[8,16]", "--model.noise=camera", "--trainer.max_steps=4",
            "--trainer.val_check_interval=4", f"--model.net.init_args.channels={channels}",
            f"--data.grey={channels == 1}"]  # fmt: skip
    assert train_main(args) == 0
    model, metadata = load_checkpoint(tmp_path / "runs" / "smoke" / "checkpoints" / "last.ckpt")
    assert model.model_config["name"] == "blind_unet" and metadata["noise"] == "camera"
    assert model.channels == channels
    assert metadata["runs"][-1]["noise"] == "camera"  # the phase records its experiment's noise
    assert metadata["runs"][-1]["camera_noise"] == CAMERA_NOISE_RECIPE  # and the camera-noise recipe it drew
    logged = next((tmp_path / "runs" / "smoke").rglob("metrics.csv")).read_text()
    assert "val/camera_psnr" in logged and "val/psnr_25" in logged  # its own target, and the Gaussian protocol


def test_a_frozen_unet_keeps_its_weights_while_the_estimator_learns(tmp_path, monkeypatch):
    import skimage.data

    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    for index, image in enumerate([skimage.data.astronaut(), skimage.data.coffee()]):
        write_image(tmp_path / "train" / f"{index}.png", ImageData(image[:160, :200]))
        write_image(tmp_path / "val" / f"{index}.png", ImageData(image[200:264, 200:296]))
    unet = _unet_checkpoint(tmp_path)
    smoke = Path(__file__).resolve().parents[1] / "configs" / "smoke.yaml"
    data = [f"--data.train_sets=[{tmp_path / 'train'}]", f"--data.val_set={tmp_path / 'val'}"]
    args = ["fit", "--config", str(smoke), *data, "--model.net.class_path=denoise.models.BlindUNetDenoiser",
            "--model.net.init_args.widths=[8,16]", "--model.noise=camera", "--trainer.max_steps=3",
            "--trainer.val_check_interval=3", f"--model.init_from={unet}", "--model.freeze=[denoiser]",
            "--model.warmup_steps=1", "--model.lr=0.01"]  # fmt: skip
    assert train_main(args) == 0
    model, metadata = load_checkpoint(tmp_path / "runs" / "smoke" / "checkpoints" / "last.ckpt")
    start, _ = load_checkpoint(unet)
    for name, value in start.state_dict().items():
        torch.testing.assert_close(model.denoiser.state_dict()[name], value, atol=0, rtol=0)
    fresh = create_model("blind_unet", widths=[8, 16])
    fresh.adopt(start)
    assert metadata["runs"][-1]["frozen"] == ["denoiser"]
    with pytest.raises(ValueError, match="has no part 'unet'; its parts are denoiser, estimator"):
        DenoiseLitModule(fresh, freeze=["unet"])
    module = DenoiseLitModule(fresh, freeze=["denoiser"], schedule_steps=10)
    trained = {id(p) for group in module.configure_optimizers()["optimizer"].param_groups for p in group["params"]}
    assert trained == {id(p) for p in fresh.estimator.parameters()}


def test_without_a_sigma_a_blind_checkpoint_denoises_at_its_own_estimate_times_the_strength(tmp_path):
    torch.manual_seed(0)
    model = create_model("blind_unet", widths=[8, 16])
    save_checkpoint(tmp_path / "blind.pt", model)
    denoiser = Denoiser.from_checkpoint(str(tmp_path / "blind.pt"), device="cpu")
    assert denoiser.is_blind(3)
    noisy = _patches(1)[0].permute(1, 2, 0).numpy()
    tensor = torch.from_numpy(noisy).permute(2, 0, 1)[None]
    expected = _blind_views(model, tensor, 1.5)
    out = denoiser(noisy, NoiseLevel.estimated(strength=1.5))
    torch.testing.assert_close(torch.from_numpy(out), torch.from_numpy(expected), atol=1e-5, rtol=0)
    single = denoiser(noisy, NoiseLevel.estimated(strength=1.5), ensemble=1)
    torch.testing.assert_close(torch.from_numpy(single), torch.from_numpy(_blind_views(model, tensor, 1.5, 1)))
    write_image(tmp_path / "in.png", ImageData((noisy * 255).round().astype("uint8")))
    common = [str(tmp_path / "in.png"), "--checkpoint", str(tmp_path / "blind.pt"), "--quiet"]
    assert infer_main([*common, "-o", str(tmp_path / "a.png"), "--strength", "1.5"]) == 0  # blind, no --sigma
    assert infer_main([*common, "-o", str(tmp_path / "b.png"), "--sigma", "0.1"]) == 0  # --sigma: non-blind
    with pytest.raises(ValueError, match="only a blind model estimates its own"):
        Denoiser.from_checkpoint(str(_unet_checkpoint(tmp_path)), device="cpu")(noisy, NoiseLevel.estimated())


def _blind_views(model, tensor, strength, views=BLIND_ENSEMBLE):
    """What the blind path returns for ``tensor`` (1, C, H, W): the mean of the model at its own estimate times
    ``strength`` over the image and, with two views, its anti-transpose (each pixel (i, j) from (W-1-j, H-1-i));
    as H x W x C."""

    def anti_transpose(x):
        return x.flip(-2, -1).transpose(-2, -1)

    outputs = []
    with torch.no_grad():
        for view in (tensor, anti_transpose(tensor))[:views]:
            denoised = model(view, model.estimate(view) * strength)
            outputs.append(denoised if view is tensor else anti_transpose(denoised))
    return (sum(outputs) / len(outputs))[0].permute(1, 2, 0).numpy()


def _unet_checkpoint(tmp_path):
    save_checkpoint(tmp_path / "unet.pt", create_model("unet", widths=[8, 16]))
    return tmp_path / "unet.pt"


def test_the_shipped_blind_model_is_the_default_without_a_sigma(tmp_path, monkeypatch):
    torch.manual_seed(0)
    shipped = tmp_path / "checkpoints"
    shipped.mkdir()
    colour, blind = create_model("unet", widths=[8, 16]), create_model("blind_unet", widths=[8, 16])
    save_checkpoint(shipped / "denoise-colour.pt", colour)
    save_checkpoint(shipped / "denoise-real.pt", blind)
    monkeypatch.setenv("DENOISE_CHECKPOINTS", str(shipped))
    denoiser = Denoiser.from_checkpoint(device="cpu")
    assert denoiser.is_blind(3) and "denoise-real.pt" in denoiser.name
    noisy = _patches(1)[0].permute(1, 2, 0).numpy()
    tensor = torch.from_numpy(noisy).permute(2, 0, 1)[None]
    by_blind = _blind_views(blind, tensor, 0.5)
    with torch.no_grad():
        by_colour = colour(tensor, 0.1)[0].permute(1, 2, 0).numpy()
    blind_out = denoiser(noisy, NoiseLevel.estimated(strength=0.5))
    torch.testing.assert_close(torch.from_numpy(blind_out), torch.from_numpy(by_blind), atol=1e-5, rtol=0)
    torch.testing.assert_close(torch.from_numpy(denoiser(noisy, 0.1)), torch.from_numpy(by_colour), atol=1e-5, rtol=0)


def test_a_blind_models_estimate_is_reported_like_the_estimators(tmp_path):
    from denoise.infer import denoise_image_file

    torch.manual_seed(0)
    save_checkpoint(tmp_path / "blind.pt", create_model("blind_unet", widths=[8, 16]))
    denoiser = Denoiser.from_checkpoint(str(tmp_path / "blind.pt"), device="cpu")
    write_image(tmp_path / "in.png", ImageData((_patches(1)[0].permute(1, 2, 0).numpy() * 255).round().astype("uint8")))
    reported = []
    denoise_image_file(denoiser, tmp_path / "in.png", tmp_path / "out.png", on_estimate=reported.append)
    assert len(reported) == 1 and 0 < reported[0] < 1  # the page and the CLI show it
    ticks = []
    denoiser(_patches(1)[0].permute(1, 2, 0).numpy(), NoiseLevel.estimated(), progress=ticks.append)
    assert sum(ticks) == denoiser.tile_count((64, 64, 3), blind=True) == 1  # two views of one tile: one tick
