"""Weight initialisation: He init keeps every UNet level alive at the start; the default one does not."""

import pytest
import torch

from denoise.models import create_model
from denoise.models.init import initialise

WIDTHS = (32, 64, 128, 256)  # the depth where PyTorch's default init silences the coarse levels


def _coarsest_gradient(init: str, blocks_per_level: int = 1) -> float:
    torch.manual_seed(0)
    model = create_model("unet", widths=WIDTHS, blocks_per_level=blocks_per_level, init=init)
    clean = torch.rand(2, 3, 64, 64)
    noisy = clean + 0.1 * torch.randn_like(clean)
    if init == "kaiming":  # the zero head blocks every gradient but its own at step 0: take one head step first
        with torch.no_grad():
            model.body.head.weight.normal_(std=1e-2)
    (model(noisy, 0.1) - clean).abs().mean().backward()
    weights = [p for name, p in model.named_parameters() if name.startswith("body.encoders.3") and "weight" in name]
    head = model.body.head.weight.grad.norm()
    return float(sum(w.grad.norm() for w in weights) / head)  # relative to the head's own gradient


def test_kaiming_keeps_the_coarsest_level_training_where_the_default_init_starves_it():
    for blocks in (1, 2):
        assert _coarsest_gradient("kaiming", blocks) > 1e-2
        assert _coarsest_gradient("torch", blocks) < 1e-4


def test_kaiming_keeps_activation_scale_through_the_encoder():
    torch.manual_seed(0)
    model = create_model("unet", widths=WIDTHS, init="kaiming")
    scales = []
    hooks = [
        e.register_forward_hook(lambda m, i, o: scales.append(float(o.detach().std()))) for e in model.body.encoders
    ]
    model(torch.rand(2, 3, 64, 64), 0.1)
    for hook in hooks:
        hook.remove()
    assert len(scales) == len(WIDTHS)
    assert max(scales) / min(scales) < 4  # the default init loses about 10x over the same four levels


def test_kaiming_starts_as_the_identity_and_records_itself():
    model = create_model("unet", widths=(8, 16), init="kaiming")
    noisy = torch.rand(1, 3, 20, 28)
    assert torch.equal(model(noisy, 0.1), noisy)  # zero head: no noise predicted before training
    assert model.model_config["init"] == "kaiming"
    assert create_model(**model.model_config).model_config == model.model_config
    assert create_model("unet", widths=(8, 16)).model_config["init"] == "torch"  # the earlier default


def test_unknown_init_names_the_choices():
    with pytest.raises(ValueError, match="unknown init 'xavier'; choose one of kaiming, torch"):
        initialise("xavier", torch.nn.Conv2d(1, 1, 3))
    with pytest.raises(ValueError, match="unknown init 'xavier'"):
        create_model("unet", widths=(8, 16), init="xavier")
