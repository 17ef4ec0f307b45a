"""ONNX export: onnxruntime matches torch for every encoding and odd sizes; the CLI backend; errors."""

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime", reason="the export extra is not installed")
pytest.importorskip("onnxscript", reason="the export extra is not installed")

from denoise import Denoiser  # noqa: E402
from denoise.checkpoint import save_checkpoint  # noqa: E402
from denoise.export import main as export_main  # noqa: E402
from denoise.infer import main as infer_main  # noqa: E402
from denoise.io import ImageData, read_image, write_image  # noqa: E402
from denoise.models import create_model  # noqa: E402
from denoise.onnx_backend import OnnxModel, export_onnx  # noqa: E402
from tests.helpers import photo  # noqa: E402

CONFIGS = [
    ("unet", "space_to_depth"),
    ("unet", "dct"),
    ("unet", "haar"),
    ("convnext_unet", "space_to_depth"),
]


@pytest.fixture(scope="module", params=CONFIGS, ids=["-".join(config) for config in CONFIGS])
def exported(request, tmp_path_factory):
    name, encoding = request.param
    torch.manual_seed(0)
    model = create_model(name, encoding=encoding, widths=(8, 16, 16)).eval()
    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    export_onnx(model, path)
    return model, path


@pytest.mark.parametrize("shape", [(1, 3, 64, 96), (2, 3, 37, 101), (1, 3, 130, 70)])
def test_onnxruntime_matches_torch(exported, shape):
    model, path = exported
    noisy = torch.rand(*shape) * 1.2 - 0.1
    sigma = torch.rand(shape[0])
    with torch.no_grad():
        expected = model(noisy, sigma)
    actual = OnnxModel(path)(noisy, sigma)
    assert actual.shape == expected.shape
    assert (actual - expected).abs().max().item() < 1e-4


def test_metadata_and_per_pixel_sigma(exported):
    model, path = exported
    onnx_model = OnnxModel(path)
    assert onnx_model.channels == 3 and onnx_model.pad_multiple == model.pad_multiple
    noisy = torch.rand(1, 3, 40, 50)
    sigma_map = torch.rand(1, 1, 40, 50) * 0.2
    with torch.no_grad():
        expected = model(noisy, sigma_map)
    assert (onnx_model(noisy, sigma_map) - expected).abs().max().item() < 1e-4


def test_cli_backend_matches_torch_backend(tmp_path, capsys):
    torch.manual_seed(0)
    model = create_model("unet", widths=(8, 16, 16))
    save_checkpoint(tmp_path / "m.pt", model)
    assert export_main(["--checkpoint", str(tmp_path / "m.pt"), "-o", str(tmp_path / "m.onnx")]) == 0
    write_image(tmp_path / "in.png", ImageData(np.round(photo(70, 90) * 255).astype(np.uint8)))
    common = [str(tmp_path / "in.png"), "--sigma", "0.1", "--tile", "64", "--overlap", "16"]
    assert infer_main([*common, "--checkpoint", str(tmp_path / "m.pt"), "-o", str(tmp_path / "torch.png")]) == 0
    assert (
        infer_main(
            [
                *common,
                "--backend",
                "onnxruntime",
                "--checkpoint",
                str(tmp_path / "m.onnx"),
                "-o",
                str(tmp_path / "ort.png"),
            ]
        )
        == 0
    )
    difference = np.abs(read_image(tmp_path / "torch.png").pixels.astype(int) - read_image(tmp_path / "ort.png").pixels)
    assert difference.max() <= 1
    api = Denoiser.from_onnx(str(tmp_path / "m.onnx"))(photo(70, 90), 0.1)
    assert api.shape == (70, 90, 3)


def test_export_and_backend_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DENOISE_CHECKPOINTS", str(tmp_path / "none"))
    assert export_main(["-o", str(tmp_path / "m.onnx")]) == 2
    assert "no trained checkpoint ships" in capsys.readouterr().err
    assert export_main(["-o", str(tmp_path / "m.txt")]) == 2
    assert "must end in .pt (checkpoint) or .onnx" in capsys.readouterr().err
    (tmp_path / "exists.onnx").write_bytes(b"x")
    assert export_main(["-o", str(tmp_path / "exists.onnx")]) == 2
    assert "use --overwrite" in capsys.readouterr().err
    write_image(tmp_path / "in.png", ImageData(np.zeros((8, 8), np.uint8)))
    assert infer_main([str(tmp_path / "in.png"), "--sigma", "0.1", "--backend", "onnxruntime"]) == 2
    assert "give --checkpoint MODEL.onnx" in capsys.readouterr().err
    assert infer_main([str(tmp_path / "in.png"), "--sigma", "0.1", "--checkpoint", str(tmp_path / "exists.onnx")]) == 2
    assert "not a denoise ONNX model" in capsys.readouterr().err
