"""Every registered model x every encoding: shapes, finiteness, gradients, identity when the head is zero."""

import io

import pytest
import torch

from denoise.models import ResidualDenoiser, create_model, list_models, register_model
from denoise.models.blocks import DOWNSAMPLERS
from denoise.transforms import list_encodings

SMALL = {"widths": (8, 16, 16)}  # small widths keep the suite fast; the skeleton is the same
CONFIGS = [{"name": name, "encoding": encoding, **SMALL} for name in list_models() for encoding in list_encodings()] + [
    {"name": "unet", "encoding": "space_to_depth", "downsample": down, **SMALL} for down in sorted(DOWNSAMPLERS)
]
CONFIG_IDS = ["-".join(str(value) for key, value in config.items() if key != "widths") for config in CONFIGS]


def _build(config, channels=3):
    return create_model(**config, channels=channels)


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("size", [(1, 1), (17, 33), (64, 64), (101, 203)])
def test_output_shape_equals_input_shape(config, size):
    model = _build(config).eval()
    noisy = torch.rand(1, 3, *size)
    with torch.no_grad():
        denoised = model(noisy, 0.1)
    assert denoised.shape == noisy.shape
    assert torch.isfinite(denoised).all()


@pytest.mark.parametrize(
    "config",
    CONFIGS[: len(list_models()) * len(list_encodings())],
    ids=CONFIG_IDS[: len(list_models()) * len(list_encodings())],
)
def test_grey_images(config):
    model = _build(config, channels=1).eval()
    noisy = torch.rand(2, 1, 40, 24)
    with torch.no_grad():
        assert model(noisy, torch.tensor([0.05, 0.2])).shape == noisy.shape


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_every_parameter_gets_a_gradient(config):
    model = _build(config)
    with torch.no_grad():  # zero-initialised residual scales would hide the gradient of their branch
        for parameter in model.parameters():
            if parameter.abs().sum() == 0:
                parameter.normal_(0, 0.1)
    noisy = torch.rand(2, 3, 32, 32)
    blind = hasattr(model, "estimate")  # a blind model's estimator learns only when it is used
    model(noisy, None if blind else 0.1).abs().mean().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_zero_last_layer_returns_input_exactly(config):
    model = _build(config).eval()
    torch.nn.init.zeros_(model.last_layer.weight)
    torch.nn.init.zeros_(model.last_layer.bias)
    noisy = torch.rand(2, 3, 37, 45) * 1.4 - 0.2  # values outside [0, 1] must pass unclipped
    with torch.no_grad():
        assert torch.equal(model(noisy, 0.1), noisy)


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_state_dict_round_trip(config):
    model = _build(config).eval()
    buffer = io.BytesIO()
    torch.save({"config": model.model_config, "state_dict": model.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    restored = create_model(**saved["config"]).eval()
    restored.load_state_dict(saved["state_dict"])
    noisy = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(noisy, 0.1), restored(noisy, 0.1))


def test_sigma_forms_agree():
    model = _build(CONFIGS[0]).eval()
    noisy = torch.rand(2, 3, 20, 30)
    with torch.no_grad():
        scalar = model(noisy, 0.1)
        per_image = model(noisy, torch.tensor([0.1, 0.1]))
        per_channel = model(noisy, torch.full((2, 3), 0.1))
        per_pixel = model(noisy, torch.full((2, 1, 20, 30), 0.1))
    for other in (per_image, per_channel, per_pixel):
        assert torch.allclose(scalar, other, atol=1e-6)


def test_sigma_changes_the_output():
    model = _build(CONFIGS[0]).eval()
    noisy = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(model(noisy, 0.02), model(noisy, 0.3))


def test_padding_multiple_covers_the_total_downsampling():
    model = create_model("unet", encoding="dct", encoding_options={"k": 8}, widths=(8, 16, 16, 16))
    assert isinstance(model, ResidualDenoiser)
    assert model.pad_multiple == 64  # 8 (DCT blocks) x 8 (three 2x downsamplings)
    assert create_model("unet", widths=(8, 16)).pad_multiple == 32


def test_model_config_is_recorded_in_full():
    model = create_model("convnext_unet", encoding="haar", widths=[8, 16], kernel_size=5)
    assert model.model_config == {
        "name": "convnext_unet",
        "channels": 3,
        "encoding": "haar",
        "encoding_options": None,
        "widths": (8, 16),
        "downsample": "maxpool",
        "blocks_per_level": 2,
        "kernel_size": 5,
    }
    assert create_model(**model.model_config).model_config == model.model_config


def test_errors_name_what_to_fix():
    with pytest.raises(ValueError, match="unknown model 'resnet'; choose one of blind_unet, convnext_unet, unet"):
        create_model("resnet")
    with pytest.raises(ValueError, match="unknown encoding 'wavelet'"):
        create_model("unet", encoding="wavelet")
    with pytest.raises(ValueError, match="unknown downsample 'avg'"):
        create_model("unet", downsample="avg")
    with pytest.raises(ValueError, match="bad arguments for model 'unet'"):
        create_model("unet", depth=3)
    with pytest.raises(ValueError, match="registered twice"):
        register_model("unet")(type("Other", (), {}))
    with pytest.raises(ValueError, match="denoises 3-channel images, got 1"):
        create_model("unet", widths=(8, 16))(torch.zeros(1, 1, 8, 8), 0.1)


def test_unet_blocks_per_level_deepens_every_level_and_keeps_one_block_names():
    one = create_model("unet", widths=(8, 16))
    two = create_model("unet", widths=(8, 16), blocks_per_level=2)
    assert "body.encoders.0.conv1.weight" in one.state_dict()  # shipped checkpoints keep loading
    assert "body.encoders.0.1.conv2.weight" in two.state_dict()
    assert two.model_config["blocks_per_level"] == 2
    assert create_model(**two.model_config).model_config == two.model_config
    noisy = torch.rand(1, 3, 20, 28)
    assert two(noisy, 0.1).shape == noisy.shape
    with pytest.raises(ValueError, match="at least one block"):
        create_model("unet", widths=(8, 16), blocks_per_level=0)


def test_the_shipped_weights_are_found_by_name_beside_their_architectures():
    from denoise.checkpoint import DEFAULT_CHECKPOINTS, load_pretrained
    from denoise.models.registry import PRETRAINED

    assert DEFAULT_CHECKPOINTS == {3: "denoise-colour.pt", 1: "denoise-grey.pt", 4: "denoise-raw.pt"}
    for name, entry in PRETRAINED.items():
        assert entry.model in list_models()
        model, metadata = load_pretrained(name)
        assert model.channels == entry.channels and metadata.get("global_step")
    with pytest.raises(ValueError, match="unknown pretrained model 'denoise-sepia'"):
        load_pretrained("denoise-sepia")
