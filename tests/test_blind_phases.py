"""The blind model's pixel-shuffle blend: its phases' denoising, the blend, sizes, levels and warm starts."""

import pytest
import torch

from denoise.models import create_model
from denoise.models.noise_correlation import correlation_gate
from denoise.transforms.phases import merge_phases, split_phases
from tests.helpers import photo


def _blind(pixel_shuffle: bool = True, seed: int = 0, phase_gate: bool = False):
    torch.manual_seed(seed)
    return create_model(
        "blind_unet", widths=[8, 16], estimator="energy_image", pixel_shuffle=pixel_shuffle, phase_gate=phase_gate
    ).eval()


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


def test_the_gate_scales_the_blend_per_image_by_its_noises_correlation():
    gated = _blind(phase_gate=True)
    white = _noisy(64, 64)
    blurred = torch.nn.functional.avg_pool2d(0.2 * torch.randn(1, 3, 66, 66), 3, stride=1)  # correlated noise
    correlated = torch.from_numpy(photo(64, 64)).permute(2, 0, 1)[None] + blurred
    noisy = torch.cat([white, correlated])
    with torch.no_grad():
        level = gated.estimate(noisy)
        direct, phases = gated.denoiser(noisy, level), gated.denoise_phases(noisy, level)
        weight = 0.5 * correlation_gate(noisy)[:, None, None, None]
        torch.testing.assert_close(gated(noisy), (1 - weight) * direct + weight * phases)
    assert weight[0] < 0.1 < 0.4 < weight[1]  # white noise keeps the direct denoising, correlated gets the blend


def test_a_shut_gate_skips_the_phases_and_gives_the_direct_denoising(monkeypatch):
    gated = _blind(phase_gate=True)
    white = _noisy(64, 64)

    def never(*args):
        raise AssertionError("the phases were denoised although the gate is shut")

    monkeypatch.setattr(gated, "gate", lambda noisy: torch.zeros(noisy.shape[0]))  # as white noise often measures
    monkeypatch.setattr(gated, "denoise_phases", never)
    with torch.no_grad():
        level = gated.estimate(white)
        torch.testing.assert_close(gated(white, level), gated.denoiser(white, level))


def test_a_gate_needs_the_blend_and_warm_starts_from_a_blind_model_without_either():
    with pytest.raises(ValueError, match="needs pixel_shuffle"):
        _blind(pixel_shuffle=False, phase_gate=True)
    plain, gated = _blind(pixel_shuffle=False, seed=1), _blind(seed=2, phase_gate=True)
    assert gated.adopt(plain)
    noisy = _noisy(64, 64)
    with torch.no_grad():  # on white noise the gate is nearly shut: nearly the plain model's output
        gap = (gated(noisy) - plain(noisy)).abs().mean() / (plain(noisy) - noisy).abs().mean()
    assert gap < 0.1


def test_export_adds_the_gated_blend_to_a_blind_model_and_records_it(tmp_path, capsys):
    from denoise.checkpoint import load_checkpoint, save_checkpoint
    from denoise.export import main as export_main

    plain = _blind(pixel_shuffle=False, seed=3)
    save_checkpoint(tmp_path / "blind.pt", plain, global_step=7, source="last.ckpt")
    assert export_main([str(tmp_path / "blind.pt"), "-o", str(tmp_path / "blended.pt"), "--phase-blend"]) == 0
    blended, metadata = load_checkpoint(tmp_path / "blended.pt")
    assert blended.pixel_shuffle and blended.phase_gate and metadata["export_args"] == "--phase-blend"
    assert metadata["global_step"] == 7 and metadata["source"] == "last.ckpt"  # the training run's record kept
    for name, tensor in plain.state_dict().items():  # the trained weights unchanged
        torch.testing.assert_close(blended.state_dict()[name], tensor)
    assert export_main([str(tmp_path / "blended.pt"), "-o", str(tmp_path / "twice.pt"), "--phase-blend"]) == 2
    assert "has a pixel-shuffle blend already" in capsys.readouterr().err
    assert export_main([str(tmp_path / "blended.pt"), "-o", str(tmp_path / "blended.onnx")]) == 2  # a clear refusal
    refusal = capsys.readouterr().err
    assert "does not export to ONNX" in refusal or "needs the export extra" in refusal
    assert not (tmp_path / "blended.onnx").exists()
    save_checkpoint(tmp_path / "unet.pt", create_model("unet", widths=[8, 16]))
    assert export_main([str(tmp_path / "unet.pt"), "-o", str(tmp_path / "no.pt"), "--phase-blend"]) == 2
    assert "belongs to a blind model" in capsys.readouterr().err and not (tmp_path / "no.pt").exists()


def test_export_puts_a_gaussian_unet_into_a_blind_model_and_keeps_its_estimator(tmp_path, capsys):
    from denoise.checkpoint import load_checkpoint, save_checkpoint
    from denoise.export import main as export_main

    blind = _blind(pixel_shuffle=True, phase_gate=True, seed=3)
    save_checkpoint(tmp_path / "blind.pt", blind, global_step=7, export_args="--phase-blend")
    torch.manual_seed(5)
    unet = create_model("unet", widths=[8, 16])
    save_checkpoint(tmp_path / "unet.pt", unet, global_step=900)
    out = tmp_path / "swapped.pt"
    assert export_main([str(tmp_path / "blind.pt"), "-o", str(out), "--denoiser", str(tmp_path / "unet.pt")]) == 0
    swapped, metadata = load_checkpoint(out)
    for name, tensor in swapped.state_dict().items():  # the UNet's weights are the Gaussian model's, the rest kept
        source = unet.state_dict()[name.removeprefix("denoiser.")] if name.startswith("denoiser.") else None
        torch.testing.assert_close(tensor, blind.state_dict()[name] if source is None else source)
    assert not torch.equal(swapped.denoiser.last_layer.weight, blind.denoiser.last_layer.weight)
    assert metadata["denoiser_from"] == {"file": "unet.pt", "global_step": 900} and metadata["global_step"] == 7
    assert metadata["export_args"] == f"--phase-blend --denoiser {tmp_path / 'unet.pt'}"
    noisy = _noisy()
    with torch.no_grad():  # the same levels go into the new UNet
        torch.testing.assert_close(swapped.estimate(noisy), blind.estimate(noisy))
        assert not torch.allclose(swapped(noisy), blind(noisy))
    # exported again with another UNet: the record names the newer one only
    save_checkpoint(tmp_path / "unet2.pt", create_model("unet", widths=[8, 16]), global_step=1000)
    assert export_main([str(out), "-o", str(tmp_path / "again.pt"), "--denoiser", str(tmp_path / "unet2.pt")]) == 0
    assert (
        load_checkpoint(tmp_path / "again.pt")[1]["export_args"] == f"--phase-blend --denoiser {tmp_path / 'unet2.pt'}"
    )
    # refusals: one line each, nothing written
    save_checkpoint(tmp_path / "wide.pt", create_model("unet", widths=[16, 16]))
    assert (
        export_main(
            [str(tmp_path / "blind.pt"), "-o", str(tmp_path / "no.pt"), "--denoiser", str(tmp_path / "wide.pt")]
        )
        == 2
    )
    assert "must have the blind model's design" in capsys.readouterr().err
    assert (
        export_main([str(tmp_path / "unet.pt"), "-o", str(tmp_path / "no.pt"), "--denoiser", str(tmp_path / "unet.pt")])
        == 2
    )
    assert "replaces a blind model's UNet" in capsys.readouterr().err
    assert (
        export_main(
            [str(tmp_path / "blind.pt"), "-o", str(tmp_path / "no.pt"), "--denoiser", str(tmp_path / "blind.pt")]
        )
        == 2
    )
    assert "must have the blind model's design" in capsys.readouterr().err
    assert not (tmp_path / "no.pt").exists()
