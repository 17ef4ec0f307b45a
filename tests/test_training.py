"""Training: patches, noise, losses, a real LightningCLI run, resume (also after SIGKILL), DDP, export.

The runs train on a few scikit-image photos written to a temporary folder, so they need no data mirror.
"""

import csv
import math
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import skimage.data
import torch
import wandb
from torch import nn

from denoise import Denoiser
from denoise.checkpoint import load_checkpoint, save_checkpoint
from denoise.data.datamodule import DenoiseDataModule
from denoise.data.images import list_images, read_uint8
from denoise.data.noise import add_training_noise
from denoise.data.patches import PatchBank, PatchSampler, augment
from denoise.export import main as export_main
from denoise.io import ImageData, write_image
from denoise.models import create_model
from denoise.protocol import image_seed, score_image
from denoise.train import main as train_main
from denoise.training.lit_module import DenoiseLitModule, NonFiniteLossError, WarmStartError, _backfilled
from denoise.training.losses import get_loss
from denoise.utils.machine import machine_description

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "configs" / "smoke.yaml"


@pytest.fixture(scope="module")
def image_folders(tmp_path_factory):
    """train/ with 4 photos and val/ with 2, 8-bit PNG."""
    root = tmp_path_factory.mktemp("images")
    photos = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(), skimage.data.rocket()]
    for index, photo in enumerate(photos):
        write_image(root / "train" / f"{index}.png", ImageData(photo[:160, :200]))
    for index, photo in enumerate(photos[:2]):
        write_image(root / "val" / f"v{index}.png", ImageData(photo[200:296, 200:328]))
    return root


def _smoke_args(folders: Path, *extra: str, subcommand: str = "fit") -> list[str]:
    """The smoke config on the temporary photos; its outputs go to runs/smoke in the working directory."""
    data = [f"--data.train_sets=[{folders / 'train'}]", f"--data.val_set={folders / 'val'}"]
    return [subcommand, "--config", str(SMOKE), *data, *extra]


@pytest.fixture
def run(tmp_path, monkeypatch):
    """A fresh working directory; the smoke run writes to runs/smoke below it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path / "runs" / "smoke"


def test_patch_plans_are_deterministic_and_inside_their_images():
    sizes = [(40, 50), (16, 90), (70, 16)]
    sampler = PatchSampler(sizes, patch_size=16, batch_size=64, batches=3, seed=3)
    plan = sampler[1]
    assert plan.shape == (64, 4) and plan.dtype == torch.int64 and len(sampler) == 3
    assert torch.equal(plan, sampler[1]) and not torch.equal(plan, sampler[2])
    image, top, left, symmetry = plan.T
    heights, widths = torch.tensor(sizes).T
    assert set(image.tolist()) == {0, 1, 2} and set(symmetry.tolist()) == set(range(8))
    assert (top >= 0).all() and (top + 16 <= heights[image]).all()
    assert (left >= 0).all() and (left + 16 <= widths[image]).all()
    sampler.epoch = 1
    assert not torch.equal(plan, sampler[1])  # a new epoch draws new patches
    with pytest.raises(IndexError):
        sampler[3]  # the loader's epoch ends here
    with pytest.raises(ValueError, match="exceeds some images"):
        PatchSampler(sizes, 17, 4, 1)


@pytest.mark.parametrize("grey", [False, True])
def test_bank_cuts_exactly_the_planned_augmented_crops(grey):
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (h, w) if grey else (h, w, 3), dtype=np.uint8) for h, w in [(40, 50), (23, 31)]]
    bank = PatchBank(images)
    plan = PatchSampler(bank.sizes, 16, 32, 1, seed=1)[0]
    patches = bank.crop(plan, 16)
    assert patches.shape == (32, 1 if grey else 3, 16, 16) and patches.dtype == torch.float32
    for patch, (image, top, left, symmetry) in zip(patches, plan.tolist(), strict=True):
        crop = images[image][top : top + 16, left : left + 16]
        expected = augment(crop, symmetry >= 4, symmetry % 4).reshape(16, 16, -1).transpose(2, 0, 1) / 255.0
        assert np.array_equal(patch.numpy(), expected.astype(np.float32))
    with pytest.raises(ValueError, match="mix channel counts"):
        PatchBank([images[0], np.zeros((20, 20, 3) if grey else (20, 20), np.uint8)])


def test_augmentations_are_the_eight_invertible_symmetries():
    patch = np.arange(12).reshape(3, 4)
    results = [augment(patch, flip, turns) for flip in (False, True) for turns in range(4)]
    assert len({result.tobytes() + bytes(result.shape) for result in results}) == 8
    for flip in (False, True):
        for turns in range(4):
            undone = np.rot90(augment(patch, flip, turns), -turns)
            assert np.array_equal(undone[:, ::-1] if flip else undone, patch)


def test_training_noise_levels_and_statistics():
    clean = torch.full((256, 3, 32, 32), 0.5)
    noisy, sigma = add_training_noise(clean, 0.0, 75 / 255, torch.Generator().manual_seed(0))
    assert sigma.shape == (256,) and sigma.min() >= 0 and sigma.max() <= 75 / 255
    assert sigma.std() > 0.05  # spread over the range, not one value
    residual = (noisy - clean) / sigma[:, None, None, None]
    assert residual.std().item() == pytest.approx(1.0, abs=0.01)
    assert noisy.max() > 1  # unclipped


def test_log_mse_weighs_each_patch_in_decibels():
    """Minus the mean PSNR: a faint patch's error counts as much as a noisy one's, unlike L2's mean."""
    clean = torch.zeros(2, 1, 4, 4)
    faint, noisy = torch.full((1, 1, 4, 4), 0.01), torch.full((1, 1, 4, 4), 0.1)
    psnrs = [-10 * math.log10(0.01**2), -10 * math.log10(0.1**2)]  # 40 and 20 dB
    assert get_loss("log_mse")(torch.cat([faint, noisy]), clean).item() == pytest.approx(-sum(psnrs) / 2, rel=1e-4)
    halved = torch.cat([faint / 2, noisy])  # the faint patch's error halved: 6 dB on one of two patches
    assert get_loss("log_mse")(halved, clean).item() == pytest.approx(
        -(psnrs[0] + 20 * math.log10(2) + psnrs[1]) / 2, rel=1e-4
    )
    assert get_loss("log_mse")(clean, clean).item() == pytest.approx(-100.0)  # finite at a perfect patch


def test_losses():
    denoised, clean = torch.tensor([[[[0.0, 2.0]]]]), torch.tensor([[[[1.0, 0.0]]]])
    assert get_loss("l1")(denoised, clean).item() == pytest.approx(1.5)
    assert get_loss("l2")(denoised, clean).item() == pytest.approx(2.5)
    assert get_loss("charbonnier")(denoised, clean).item() == pytest.approx(1.5, abs=1e-5)
    assert get_loss("log_mse")(denoised, clean).item() == pytest.approx(10 * math.log10(2.5), abs=1e-5)
    with pytest.raises(ValueError, match="unknown loss 'ssim'"):
        get_loss("ssim")


class _NaNNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, noisy, sigma):
        return noisy * self.scale * float("nan")


def test_non_finite_losses_skip_steps_then_stop():
    module = DenoiseLitModule(_NaNNet(), max_nonfinite_steps=2, warmup_steps=1)
    loader = torch.utils.data.DataLoader(torch.rand(8, 3, 16, 16), batch_size=2)
    trainer = L.Trainer(
        max_steps=10,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    with warnings.catch_warnings(record=True) as caught, pytest.raises(NonFiniteLossError, match="3 steps in a row"):
        warnings.simplefilter("always")
        trainer.fit(module, loader)
    assert sum("non-finite loss" in str(warning.message) for warning in caught) == 2


def test_the_rendered_loss_adds_the_sRGB_error_of_raw_and_needs_raw_noise():
    """Raw: the loss also compares output and target after the fixed rendering; other noises refuse it."""
    net = create_model("unet", channels=4, widths=[8, 16])
    clean = torch.rand(2, 3, 32, 32)
    losses = []
    for weight in (0.0, 1.0):
        torch.manual_seed(0)  # the same camera, ISO and noise for both
        module = DenoiseLitModule(net, noise="raw", rendered_loss_weight=weight)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # self.log() outside a trainer
            losses.append(module.training_step(clean, 0).item())
    assert losses[1] > losses[0] > 0  # the rendered error is larger than the linear one (gamma, gains)
    module = DenoiseLitModule(create_model("unet", channels=3, widths=[8, 16]), rendered_loss_weight=1.0)
    with pytest.raises(ValueError, match="needs a noise whose outputs are rendered"):
        module.training_step(clean, 0)


def _metrics(run: Path) -> list[dict]:
    files = sorted(run.rglob("metrics.csv"))
    assert files, f"no metrics.csv under {run}"
    with files[-1].open() as stream:
        return list(csv.DictReader(stream))


def test_smoke_run_checkpoints_samples_and_protocol_equal_validation(image_folders, run):
    assert train_main(_smoke_args(image_folders)) == 0
    assert (run / "checkpoints" / "best.ckpt").is_file() and (run / "checkpoints" / "last.ckpt").is_file()
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_0000010.png", "step_0000020.png"]
    rows = [row for row in _metrics(run) if row.get("val/psnr_25")]
    logged = {int(row["step"]): float(row["val/psnr_25"]) for row in rows}
    # the best checkpoint, scored by the protocol the leaderboard uses, gives the number validation logged
    model, metadata = load_checkpoint(run / "checkpoints" / "best.ckpt")
    denoiser = Denoiser.from_checkpoint(str(run / "checkpoints" / "best.ckpt"), device="cpu")
    paths = list_images(image_folders / "val")
    protocol = np.mean([score_image(denoiser, read_uint8(p), 25.0, image_seed(p)).psnr for p in paths])
    assert abs(protocol - max(logged.values())) < 0.01
    assert metadata["global_step"] in (10, 20)


def test_resume_from_last_continues_the_step_count(image_folders, run):
    assert train_main(_smoke_args(image_folders, "--trainer.max_steps=10")) == 0
    first = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["training_record"]["train_seconds"]
    assert train_main(_smoke_args(image_folders, "--trainer.max_steps=15", "--ckpt_path=last")) == 0
    last = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 15
    steps = [int(row["step"]) for row in _metrics(run) if row.get("train/loss")]
    assert steps and min(steps) >= 10  # the resumed run started where the first one stopped
    # the wall time of training adds up over the resumed runs, and the machine is recorded once
    assert last["training_record"]["train_seconds"] > first > 0
    assert last["training_record"]["machines"] == [machine_description()]


def test_a_checkpoint_file_resumes_and_validates(image_folders, run):
    assert train_main(_smoke_args(image_folders, "--trainer.max_steps=10")) == 0
    last = run / "checkpoints" / "last.ckpt"
    logged = float([row for row in _metrics(run) if row.get("val/psnr_25")][-1]["val/psnr_25"])
    # the CLI parses a named file's hyperparameters back as the model's arguments: they must be only those
    assert train_main(_smoke_args(image_folders, f"--ckpt_path={last}", subcommand="validate")) == 0
    validated = [row for row in _metrics(run) if row.get("val/psnr_25")][-1]
    assert abs(float(validated["val/psnr_25"]) - logged) < 1e-4  # the same weights, the same seeded noise
    assert train_main(_smoke_args(image_folders, "--trainer.max_steps=12", f"--ckpt_path={last}")) == 0
    assert torch.load(last, weights_only=True)["global_step"] == 12


def test_a_warm_start_from_another_network_is_one_line_not_a_traceback(image_folders, run, tmp_path, capsys):
    other = tmp_path / "other.pt"
    save_checkpoint(other, create_model("unet", channels=3, widths=[8, 16, 16, 16, 16]), global_step=3)
    assert train_main(_smoke_args(image_folders, f"--model.init_from={other}", "--trainer.max_steps=5")) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"error: init_from {other} holds a different network") and "narrower widths" in error


def test_run_killed_with_sigkill_resumes_from_its_last_save(image_folders, run):
    args = _smoke_args(image_folders, "--trainer.max_steps=100000", "--trainer.val_check_interval=100000")
    process = subprocess.Popen(
        [sys.executable, "-m", "denoise.train", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    last = run / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if last.is_file() and torch.load(last, weights_only=True)["global_step"] >= 15:
                break
            time.sleep(0.5)
        else:
            pytest.fail("the training run saved no checkpoint in time")
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    saved = torch.load(last, weights_only=True)["global_step"]
    assert (
        train_main(
            _smoke_args(
                image_folders,
                f"--trainer.max_steps={saved + 5}",
                "--ckpt_path=last",
                "--trainer.val_check_interval=100000",
            )
        )
        == 0
    )
    assert torch.load(last, weights_only=True)["global_step"] == saved + 5


def test_ddp_with_two_cpu_processes(image_folders, run):
    args = _smoke_args(
        image_folders,
        "--trainer.strategy=ddp",
        "--trainer.devices=2",
        "--trainer.max_steps=3",
        "--trainer.limit_val_batches=0",
    )
    result = subprocess.run(
        [sys.executable, "-m", "denoise.train", *args], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Initializing distributed: GLOBAL_RANK: 1, MEMBER: 2/2" in result.stderr + result.stdout
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 3


def test_export_light_checkpoint(image_folders, run, tmp_path, capsys):
    assert train_main(_smoke_args(image_folders, "--trainer.max_steps=5")) == 0
    light = tmp_path / "light.pt"
    assert export_main([str(run / "checkpoints" / "last.ckpt"), "-o", str(light)]) == 0
    assert light.stat().st_size < (run / "checkpoints" / "last.ckpt").stat().st_size
    full, _ = load_checkpoint(run / "checkpoints" / "last.ckpt")
    exported, metadata = load_checkpoint(light)
    assert metadata["global_step"] == 5 and metadata["source"] == "last.ckpt"
    assert metadata["train_seconds"] > 0 and metadata["machines"] == [machine_description()]
    assert metadata["data"]["train_sets"] == [str(image_folders / "train")] and metadata["data"]["patch_size"] == 64
    noisy = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(full(noisy, 0.1), exported(noisy, 0.1))
    assert export_main([str(run / "checkpoints" / "last.ckpt"), "-o", str(light)]) == 2  # no silent overwrite
    assert "exists" in capsys.readouterr().err
    # training checkpoints written before the network config moved out of the hyperparameters still load
    payload = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    payload["hyper_parameters"]["model_config"] = payload.pop("model_config")
    torch.save(payload, tmp_path / "older.ckpt")
    older, metadata = load_checkpoint(tmp_path / "older.ckpt")
    assert "model_config" not in metadata and older.model_config == exported.model_config
    with torch.no_grad():
        assert torch.equal(older(noisy, 0.1), exported(noisy, 0.1))


def test_missing_data_set_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DENOISE_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)
    assert train_main(["fit", "--config", str(SMOKE)]) == 1
    assert "data set CBSD432 is not in" in capsys.readouterr().err


@pytest.mark.parametrize("experiment", ["colour", "grey"])
def test_make_train_without_data_stops_before_any_logger_or_run_folder(tmp_path, monkeypatch, experiment):
    monkeypatch.chdir(tmp_path)
    configs = [item for config in _make_train_configs(experiment) for item in ("--config", str(config))]
    result = subprocess.run(
        [sys.executable, "-m", "denoise.train", "fit", *configs],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DENOISE_DATA_DIR": str(tmp_path / "empty"), "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("error: data set CBSD432 is not in") and "Traceback" not in result.stderr
    assert "wandb" not in (result.stdout + result.stderr).lower()
    assert not (tmp_path / "runs").exists()  # no empty run folder left behind


def test_an_epoch_without_a_full_batch_is_one_clear_line(capsys):
    # drop_last would leave no batch at all and Lightning would end "successfully" without a single step
    assert train_main(["fit", "--config", str(SMOKE), "--data.patches_per_epoch=4", "--data.batch_size=8"]) == 1
    assert "patches_per_epoch (4) is smaller than data.batch_size (8)" in capsys.readouterr().err


def _make_train_configs(experiment: str) -> list[Path]:
    """The config stack of ``make train EXPERIMENT=...``, read from the Makefile's TRAIN_CONFIGS."""
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    line = next(line for line in makefile.splitlines() if line.startswith("TRAIN_CONFIGS ?="))
    data = re.search(r"^DATA_CONFIG \?= (\S+)$", makefile, re.MULTILINE).group(1)
    base = "configs/experiment/real.yaml " if experiment == "real-grey" else ""  # EXPERIMENT_CONFIGS's rule
    line = line.replace("$(EXPERIMENT_CONFIGS)", base + "configs/experiment/$(EXPERIMENT).yaml")
    line = line.replace("$(TRAINER)", "cpu").replace("$(EXPERIMENT)", experiment).replace("$(DATA_CONFIG)", data)
    names = line.split("?=", 1)[1].split()
    return [ROOT / name for name in names]


@pytest.mark.parametrize(
    "experiment, channels", [("colour", 3), ("grey", 1), ("real", 3), ("real-grey", 1), ("raw", 4)]
)
def test_make_train_configs_compose_and_log_to_wandb_offline(image_folders, run, tmp_path, experiment, channels):
    configs = _make_train_configs(experiment)
    args = [
        "fit",
        *[item for config in configs for item in ("--config", str(config))],
        f"--data.train_sets=[{image_folders / 'train'}]",
        f"--data.val_set={image_folders / 'val'}",
        "--data.holdout={}",  # the mixture holds out images of its own sets, which these folders replace
        "--data.patches_per_epoch=32",
        "--data.batch_size=8",
        "--data.patch_size=64",
        "--data.num_workers=0",
        "--trainer.max_steps=2",
        "--trainer.limit_val_batches=0",
        "--model.net.init_args.widths=[8,16]",
        *(["--model.init_from=null"] if experiment.startswith("real") else []),  # not the shipped model's widths
    ]
    try:
        assert train_main(args) == 0
    finally:
        wandb.finish()  # one run per process, as with `make train`; the next test starts its own
    # offline: no account, no network (the run's files may land in the wandb service's first folder, so only
    # the run folder is checked here)
    assert list((tmp_path / "runs" / "wandb").glob("offline-run-*"))
    last = tmp_path / "runs" / experiment / "checkpoints" / "last.ckpt"  # the folder comes from default_root_dir
    model, _ = load_checkpoint(last)
    assert model.channels == channels


def test_warm_start_from_a_light_checkpoint_continues_steps_schedule_and_record(
    image_folders, run, tmp_path, monkeypatch
):
    monkeypatch.setenv("PL_GLOBAL_SEED", "0")  # seed_everything sets it: restored after the test
    assert train_main(_smoke_args(image_folders, "--trainer.max_steps=10")) == 0
    light = tmp_path / "light.pt"
    assert export_main([str(run / "checkpoints" / "last.ckpt"), "-o", str(light)]) == 0
    start, before = load_checkpoint(light)
    (run / "checkpoints" / "last.ckpt").unlink()  # as on a fresh machine: only the light checkpoint is left
    seen = {}

    class Probe(L.Callback):
        def on_train_start(self, trainer, module):
            seen["equal"] = all(
                torch.equal(a, b)
                for a, b in zip(module.net.state_dict().values(), start.state_dict().values(), strict=True)
            )
            seen["lr"] = trainer.optimizers[0].param_groups[0]["lr"]

    net = create_model("unet", channels=3, widths=[8, 16, 16], init="kaiming")  # the init its weights replace
    module = DenoiseLitModule(net, lr=0.002, warmup_steps=5, init_from=str(light))
    data = DenoiseDataModule(train_sets=[str(image_folders / "train")], val_set=str(image_folders / "val"),
                             patch_size=64, batch_size=4, patches_per_epoch=40, num_workers=0, seed=3)  # fmt: skip
    L.seed_everything(5)  # other seeds than the first run's: new noise and patches, which the record must name
    trainer = L.Trainer(max_steps=15, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        accelerator="cpu", limit_val_batches=0, callbacks=[Probe()],
                        default_root_dir=tmp_path / "warm")  # fmt: skip
    trainer.fit(module, data)
    assert seen["equal"]  # it started from the checkpoint's weights
    assert trainer.global_step == 5  # max_steps counts the 10 steps before the warm start
    # warming up again (Adam's moments start afresh), on the cosine at step 10 of 15: (10 - 5) / (15 - 5) done
    assert seen["lr"] == pytest.approx(0.002 / 5 * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * 0.5))))
    saved = tmp_path / "warm.ckpt"
    trainer.save_checkpoint(saved)
    warm, after = load_checkpoint(saved)
    assert warm.model_config["init"] == "torch" and "grown_from" not in str(after)  # the first run's init, no growth
    assert after["global_step"] == 15 and after["train_seconds"] > before["train_seconds"]
    # the history: the first run from step 0 at its learning rate, then the warm start from step 10
    assert [(run["start_step"], run["lr"]) for run in after["runs"]] == [(0, 0.002), (10, 0.002)]
    assert after["runs"][1]["init_from"] == str(light)
    assert (after["runs"][1]["device"], after["runs"][1]["batch_size"]) == ("cpu", 4)  # what reproduce names
    assert after["runs"][1]["precision"] == "32-true"  # the trainer's, which the card names where not its config's
    assert (after["runs"][0]["seed"], after["runs"][0]["data_seed"]) == (0, 0)  # the smoke configs' seeds
    assert (after["runs"][1]["seed"], after["runs"][1]["data_seed"]) == (5, 3)
    assert [run["schedule_end"] for run in after["runs"]] == [10, 15]  # each ran to its schedule's end
    # exported over its own init_from, then resumed from its training checkpoint with the same arguments: the
    # 10 steps before the warm start still come from the saved run, not from what init_from now holds (15)
    assert export_main([str(saved), "-o", str(light), "--overwrite"]) == 0
    resumed = DenoiseLitModule(create_model("unet", channels=3, widths=[8, 16, 16]), lr=0.002, warmup_steps=5,
                               init_from=str(light))  # fmt: skip
    trainer = L.Trainer(max_steps=18, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        accelerator="cpu", limit_val_batches=0, default_root_dir=tmp_path / "warm")  # fmt: skip
    trainer.fit(resumed, data, ckpt_path=saved)
    assert trainer.global_step == 8 and resumed.step_offset == 10
    assert resumed.runs[-1]["resumed"] and "resumed" not in resumed.runs[1]  # the card keeps it in its phase
    assert resumed.runs[-1]["start_step"] == 15  # where the saved run stopped, not where its phase began
    assert resumed.runs[-1]["schedule_end"] == 18
    # a schedule that ends after the stop, as a run stopped by hand had: the cosine runs on to schedule_steps
    longer = DenoiseLitModule(create_model("unet", channels=3, widths=[8, 16, 16]), lr=0.002, warmup_steps=5,
                              init_from=str(light), schedule_steps=40)  # fmt: skip
    trainer = L.Trainer(max_steps=17, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        accelerator="cpu", limit_val_batches=0, callbacks=[Probe()],
                        default_root_dir=tmp_path / "longer")  # fmt: skip
    trainer.fit(longer, data)
    assert trainer.global_step == 2 and longer.runs[-1]["schedule_end"] == 40  # light holds step 15 now
    assert seen["lr"] == pytest.approx(0.002 / 5 * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * 10 / 35))))
    early = DenoiseLitModule(create_model("unet", channels=3, widths=[8, 16, 16]), init_from=str(light),
                             schedule_steps=12)  # fmt: skip
    with pytest.raises(ValueError, match="ends before this run starts"):
        L.Trainer(max_steps=17, logger=False, accelerator="cpu", enable_progress_bar=False).fit(early, data)
    other = DenoiseLitModule(create_model("unet", channels=3, widths=[8, 16]), init_from=str(light))
    with pytest.raises(WarmStartError, match="different network"):
        L.Trainer(max_steps=1, logger=False, accelerator="cpu", enable_progress_bar=False).fit(other, data)


def test_runs_recorded_before_devices_and_batches_were_get_them_where_the_checkpoint_tells():
    gpu, cpu = "Xeon, 16 cores, NVIDIA H100 80GB HBM3", "AMD EPYC, 2 cores"
    runs = [{"start_step": 0, "lr": 4e-4}, {"start_step": 9000, "lr": 4e-4}]  # a run and its resume
    meta = {"machines": [gpu], "data": {"batch_size": 64}, "runs": runs}
    assert _backfilled(runs, meta) == [
        {"start_step": 0, "lr": 4e-4, "device": "cuda"},  # the data record's batch is the last run's alone
        {"start_step": 9000, "lr": 4e-4, "device": "cuda", "batch_size": 64},
    ]
    assert "device" not in runs[0]  # the checkpoint's record is left as it is
    mixed = _backfilled(runs, {"machines": [cpu, gpu], "data": {}})  # which run used which machine: unknown
    assert all("device" not in run and "batch_size" not in run for run in mixed)
    recorded = [{"start_step": 0, "device": "cpu", "batch_size": 16}]
    assert _backfilled(recorded, meta) == recorded
