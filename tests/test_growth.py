"""Function-preserving growth: refine blocks start as the identity; a larger net warm-starts from a smaller."""

import math

import lightning as L
import pytest
import torch

from denoise.checkpoint import load_checkpoint, save_checkpoint
from denoise.models import create_model
from denoise.models.blocks import ResidualBlock
from denoise.models.growth import GrowthError, grow_from
from denoise.training.lit_module import DenoiseLitModule
from denoise_lab.model_card import history
from denoise_lab.profile import gmacs_per_megapixel


def _trained(refine_blocks: int = 0, widths=(8, 16)):
    """A network whose weights are all non-trivial (as after training), refine blocks included."""
    torch.manual_seed(1)
    net = create_model("unet", widths=widths, refine_blocks=refine_blocks)
    with torch.no_grad():
        for value in net.parameters():
            value.normal_(0, 0.05)
    return net


def test_residual_block_starts_as_the_identity_and_learns():
    block = ResidualBlock(4)
    x = torch.randn(2, 4, 9, 7)
    assert torch.equal(block(x), x)
    block(x).square().sum().backward()
    assert block.conv2.weight.grad.abs().sum() > 0  # the zero conv still receives a gradient


def test_refine_blocks_add_finest_level_depth_and_no_weights_when_absent():
    plain, refined = create_model("unet", widths=(8, 16)), create_model("unet", widths=(8, 16), refine_blocks=2)
    assert not any("refine" in name for name in plain.state_dict())  # shipped checkpoints keep their keys
    assert "body.refine.1.conv2.weight" in refined.state_dict()
    assert create_model(**refined.model_config).model_config == refined.model_config
    assert gmacs_per_megapixel(refined, 3) > gmacs_per_megapixel(plain, 3)
    with pytest.raises(ValueError, match="refine_blocks must be >= 0"):
        create_model("unet", widths=(8, 16), refine_blocks=-1)


def test_grow_from_copies_the_weights_and_keeps_the_function():
    small, large = _trained(0), create_model("unet", widths=(8, 16), refine_blocks=2)
    added = grow_from(large, small)
    assert added == sorted(name for name in large.state_dict() if ".refine." in name)
    noisy = torch.rand(1, 3, 40, 56)
    with torch.no_grad():
        assert torch.allclose(large(noisy, 0.1), small(noisy, 0.1), atol=1e-6)
    # one refine block more than a checkpoint that already had one: the trained block is copied too
    assert grow_from(create_model("unet", widths=(8, 16), refine_blocks=2), _trained(1)) == [
        "body.refine.1.conv1.bias", "body.refine.1.conv1.weight", "body.refine.1.conv2.bias",
        "body.refine.1.conv2.weight",
    ]  # fmt: skip


def test_grow_from_refuses_networks_that_do_not_extend_the_old_one():
    small = _trained(0)
    with pytest.raises(GrowthError, match="reshapes"):
        grow_from(create_model("unet", widths=(12, 16)), small)
    with pytest.raises(GrowthError, match="lacks"):
        grow_from(create_model("unet", widths=(8,)), small)
    with pytest.raises(GrowthError, match="do not start as the identity"):
        grow_from(_trained(1), small)  # its refine block is not the identity


class _FirstLR(L.Callback):
    def on_train_start(self, trainer, module):
        self.lr = trainer.optimizers[0].param_groups[0]["lr"]


@pytest.mark.parametrize("restart", [False, True])
def test_warm_start_grows_a_smaller_checkpoint_and_records_it(tmp_path, restart):
    small = _trained(0)
    light = tmp_path / "small.pt"
    save_checkpoint(light, small, global_step=10, runs=[{"start_step": 0, "lr": 0.002, "init_from": None}])
    net = create_model("unet", widths=(8, 16), refine_blocks=1)
    module = DenoiseLitModule(net, lr=0.002, warmup_steps=1, init_from=str(light), restart_schedule=restart)
    first = _FirstLR()
    trainer = L.Trainer(max_steps=12, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        accelerator="cpu", default_root_dir=tmp_path, callbacks=[first])  # fmt: skip
    trainer.fit(module, torch.utils.data.DataLoader(torch.rand(8, 3, 32, 32), batch_size=4))
    assert trainer.global_step == 2  # max_steps counts the checkpoint's 10
    # a restarted schedule begins at its peak; a carried-on one is at step 10 of 12 of the first run's cosine
    carried = 0.002 * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * 9 / 11)))
    assert first.lr == pytest.approx(0.002 if restart else carried)
    trainer.save_checkpoint(tmp_path / "grown.ckpt")
    model, meta = load_checkpoint(tmp_path / "grown.ckpt")
    assert model.model_config["refine_blocks"] == 1
    assert meta["runs"][-1]["grown_from"] == small.model_config
    assert meta["runs"][-1].get("restart_schedule", False) is restart  # the model card's reproduce line needs it
    fresh = ", a fresh schedule" if restart else ""
    assert f"on CPU (warm start from `small.pt`, grown from unet 8-16{fresh})" in history(meta)[0]
