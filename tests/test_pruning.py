"""Structured pruning: a narrower UNet warm-starts from a wider one's most salient channels."""

import lightning as L
import pytest
import torch

from denoise.checkpoint import load_checkpoint, save_checkpoint
from denoise.models import create_model
from denoise.models.pruning import PruningError, _groups, narrower, prune_into
from denoise.training.lit_module import DenoiseLitModule
from denoise_lab.model_card import history, reproduce


def _trained(widths=(8, 12, 16), refine_blocks=0, channels=3, seed=1):
    """A network whose weights are all non-trivial, as after training."""
    torch.manual_seed(seed)
    net = create_model("unet", channels=channels, widths=widths, refine_blocks=refine_blocks)
    with torch.no_grad():
        for value in net.parameters():
            value.normal_(0, 0.1)
    return net


@torch.no_grad()
def _kill(net, dead: int):
    """Zero what produces the first ``dead`` channels of every group: they carry nothing, so a network without
    them computes the same function. Returns, per group, the channels that stay alive."""
    config = net.model_config
    weights = dict(net.named_parameters())
    alive = []
    for group in _groups(config["widths"], config["widths"], config.get("refine_blocks", 0)):
        for use in group.producers:
            weights[use.prefix + ".weight"].narrow(use.axis, 0, dead).zero_()
            weights[use.prefix + ".bias"].narrow(0, 0, dead).zero_()
        alive.append(list(range(dead, group.width)))
    return alive


@pytest.mark.parametrize("refine_blocks", [0, 2])
@pytest.mark.parametrize("channels", [3, 4])
def test_pruning_drops_channels_that_carry_nothing_and_keeps_the_function_exactly(refine_blocks, channels):
    wide = _trained(refine_blocks=refine_blocks, channels=channels)
    alive = _kill(wide, dead=3)
    narrow = create_model("unet", channels=channels, widths=(5, 9, 13), refine_blocks=refine_blocks)
    kept = prune_into(narrow, wide)
    assert list(kept.values()) == alive  # every group kept exactly its live channels, in order
    noisy = torch.rand(2, channels, 40, 24)
    sigma = torch.rand(2, channels, 40, 24) * 0.2  # a per-pixel map, as the raw model gets
    with torch.no_grad():
        torch.testing.assert_close(narrow(noisy, sigma), wide(noisy, sigma), atol=1e-6, rtol=0)


def test_pruning_to_the_same_widths_would_copy_every_weight():
    wide = _trained()
    same = create_model("unet", widths=(8, 12, 16))
    assert not narrower(same.model_config, wide.model_config)  # not a pruning: init_from loads it as it is
    with pytest.raises(PruningError, match="only widths may shrink"):
        prune_into(same, wide)


def test_pruning_keeps_the_most_salient_channels_and_a_close_function():
    wide = _trained(widths=(8, 12))
    with torch.no_grad():  # one channel of the finest level made ten times as strong: it must be kept
        wide.body.encoders[0].conv2.weight[6].mul_(10)
        wide.body.encoders[0].conv2.bias[6].mul_(10)
    narrow = create_model("unet", widths=(4, 12))
    kept = prune_into(narrow, wide)
    assert 6 in kept["body.encoders.0.conv2:0"]
    assert kept["body.encoders.1.conv2:0"] == list(range(12))  # the level left as wide keeps all, in order
    torch.testing.assert_close(narrow.body.head.bias, wide.body.head.bias)  # outside the levels: copied whole


@pytest.mark.parametrize(
    ("narrow", "wide", "message"),
    [
        ({"widths": (8, 16)}, {"widths": (8, 12)}, "only widths may shrink"),  # wider
        ({"widths": (4,)}, {"widths": (8, 12)}, "only widths may shrink"),  # fewer levels
        ({"widths": (4, 12), "refine_blocks": 1}, {"widths": (8, 12)}, "only widths may shrink"),
        ({"widths": (4, 12), "downsample": "strided"}, {"widths": (8, 12), "downsample": "strided"}, "pruning knows"),
    ],
)
def test_pruning_refuses_anything_but_narrower_levels(narrow, wide, message):
    with pytest.raises(PruningError, match=message):
        prune_into(create_model("unet", **narrow), create_model("unet", **wide))


def test_a_training_run_warm_starts_a_narrower_network_and_records_the_pruning(tmp_path):
    wide = _trained(widths=(8, 12))
    _kill(wide, dead=2)
    path = tmp_path / "wide.pt"
    save_checkpoint(path, wide, global_step=10, runs=[{"start_step": 0, "lr": 0.002, "init_from": None}])
    module = DenoiseLitModule(create_model("unet", widths=(6, 10)), lr=0.002, warmup_steps=1, init_from=str(path))

    def trainer():
        return L.Trainer(max_steps=12, logger=False, enable_progress_bar=False, enable_model_summary=False,
                         accelerator="cpu", default_root_dir=tmp_path)  # fmt: skip

    module.trainer = trainer()
    module.setup("fit")  # the warm start alone: the pruned network computes the wide one's function
    noisy = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(module.net(noisy, 0.1), wide(noisy, 0.1), atol=1e-6, rtol=0)
    module = DenoiseLitModule(create_model("unet", widths=(6, 10)), lr=0.002, warmup_steps=1, init_from=str(path))
    fit = trainer()
    fit.fit(module, torch.utils.data.DataLoader(torch.rand(8, 3, 32, 32), batch_size=4))
    assert fit.global_step == 2  # max_steps counts the checkpoint's 10
    fit.save_checkpoint(tmp_path / "narrow.ckpt")
    model, meta = load_checkpoint(tmp_path / "narrow.ckpt")
    assert model.model_config["widths"] == (6, 10)
    assert meta["runs"][-1]["pruned_from"] == wide.model_config
    assert "pruned from unet 8-12" in history(meta)[0]
    first, _, second, _ = reproduce(meta, "colour", model.model_config).split("`, then `")
    assert "widths" not in first  # the first phase trained the configs' network
    assert "--model.net.init_args.widths [6,10]" in second
