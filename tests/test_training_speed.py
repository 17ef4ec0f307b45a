"""Training speed: the step timer, the throughput report, and the settings it compares (memory layout)."""

import csv
from pathlib import Path

import lightning as L
import pytest
import skimage.data
import torch

from denoise.data.datamodule import DenoiseDataModule
from denoise.io import ImageData, write_image
from denoise.models import create_model
from denoise.training.lit_module import DenoiseLitModule
from denoise.training.speed import TrainingSpeed
from denoise_lab.throughput import main as throughput_main

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "configs" / "smoke.yaml"


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """train/ with 3 photo crops, val/ with 1."""
    root = tmp_path_factory.mktemp("photos")
    for index, photo in enumerate([skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea()]):
        write_image(root / "train" / f"{index}.png", ImageData(photo[:96, :128]))
    write_image(root / "val" / "v.png", ImageData(skimage.data.rocket()[:64, :96]))
    return root


def _data(photos: Path) -> DenoiseDataModule:
    return DenoiseDataModule(train_sets=[str(photos / "train")], val_set=str(photos / "val"), patch_size=32,
                             batch_size=4, patches_per_epoch=400, num_workers=0)  # fmt: skip


def _fit(photos: Path, tmp_path: Path, channels_last: bool, steps: int, **trainer) -> DenoiseLitModule:
    L.seed_everything(0)
    module = DenoiseLitModule(create_model("unet", channels=3, widths=[8, 16]), lr=0.002, warmup_steps=1,
                              channels_last=channels_last)  # fmt: skip
    options = dict(logger=False, enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                   limit_val_batches=0, default_root_dir=tmp_path)  # fmt: skip
    L.Trainer(max_steps=steps, accelerator="cpu", **{**options, **trainer}).fit(module, _data(photos))
    return module


def test_speed_is_logged_per_window_and_summed_over_the_run(photos, tmp_path):
    speed = TrainingSpeed(skip=2)
    logger = L.pytorch.loggers.CSVLogger(tmp_path, name="speed")
    _fit(photos, tmp_path, False, 12, callbacks=[speed], logger=logger, log_every_n_steps=4)
    # steps 1-2 skipped, the window opens after step 2 and every later step is timed
    assert speed.steps == 10 and speed.seconds > 0
    assert speed.patch_megapixels == pytest.approx(10 * 4 * 32 * 32 / 1e6)
    rows = [row for row in csv.DictReader(open(logger.log_dir + "/metrics.csv")) if row.get("train/steps_per_s")]
    assert [row["step"] for row in rows] == ["3", "7", "11"]  # logged at steps 4, 8 and 12 (counted from 0)
    for row in rows:
        rate = float(row["train/steps_per_s"])
        assert rate > 0 and float(row["train/patch_mp_per_s"]) == pytest.approx(rate * 4 * 32 * 32 / 1e6, rel=1e-6)


def test_channels_last_trains_the_same_network(photos, tmp_path):
    """The layout is a speed setting: three steps in either layout end at the same weights (to float noise)."""
    plain = _fit(photos, tmp_path, False, 3).net.state_dict()
    fast = _fit(photos, tmp_path, True, 3).net
    kernels = [value for value in fast.parameters() if value.ndim == 4]
    assert all(kernel.is_contiguous(memory_format=torch.channels_last) for kernel in kernels)
    assert plain.keys() == fast.state_dict().keys()
    for name, value in fast.state_dict().items():
        assert torch.allclose(value, plain[name], atol=1e-5), name
    L.seed_everything(0)
    start = create_model("unet", channels=3, widths=[8, 16]).state_dict()
    assert any(not torch.allclose(value, start[name], atol=1e-4) for name, value in plain.items())  # it trained


def test_throughput_report_has_a_row_per_setting(photos, tmp_path, capsys):
    out = tmp_path / "throughput.md"
    data = [f"--set=data.train_sets=[{photos / 'train'}]", f"--set=data.val_set={photos / 'val'}"]
    args = ["--config", str(SMOKE), *data, "--settings", "NCHW", "channels_last", "--steps", "3", "--skip", "1",
            "--repeats", "2"]  # fmt: skip
    assert throughput_main([*args, "--out", str(out)]) == 0
    report = out.read_text()
    rows = [line for line in report.splitlines() if line.startswith("| NCHW") or line.startswith("| channels_last")]
    assert len(rows) == 2
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[1] == "4 x 64^2" and cells[2] == "32-true" and cells[3] == "3" and cells[7] == "-"
        low, high = (float(rate) for rate in cells[5].split("-"))
        assert 0 < low <= float(cells[4]) <= high  # the median of two runs lies within their range
    assert "python -m denoise_lab.throughput --config" in report and "ran 2 time(s)" in report
    by_batch = ["--config", str(SMOKE), *data, "--settings", "NCHW", "--batch-sizes", "2", "4", "--steps", "2"]
    assert throughput_main([*by_batch, "--out", str(out)]) == 0
    rows = [line.split("|")[1:3] for line in out.read_text().splitlines() if line.startswith("| NCHW")]
    assert sorted((name.strip(), size.strip()) for name, size in rows) == [
        ("NCHW, batch 2", "2 x 64^2"), ("NCHW, batch 4", "4 x 64^2")
    ]  # fmt: skip
    by_precision = ["--config", str(SMOKE), *data, "--settings", "NCHW", "--precisions", "32-true", "bf16-mixed",
                    "--steps", "2"]  # fmt: skip
    assert throughput_main([*by_precision, "--out", str(out)]) == 0
    rows = [line.split("|")[1:4] for line in out.read_text().splitlines() if line.startswith("| NCHW")]
    assert sorted((name.strip(), precision.strip()) for name, _, precision in rows) == [
        ("NCHW, 32-true", "32-true"), ("NCHW, bf16-mixed", "bf16-mixed")
    ]  # fmt: skip  # the precision column is the trainer's: the override took
    assert throughput_main(["--config", "missing.yaml"]) == 2
    assert "config missing.yaml not found" in capsys.readouterr().err


@pytest.mark.slow
def test_compiled_training_steps_match_eager_and_keep_the_checkpoint_keys(photos, tmp_path):
    eager = _fit(photos, tmp_path, False, 3).net.state_dict()
    L.seed_everything(0)
    module = DenoiseLitModule(create_model("unet", channels=3, widths=[8, 16]), lr=0.002, warmup_steps=1, compile=True)
    trainer = L.Trainer(max_steps=3, accelerator="cpu", logger=False, enable_progress_bar=False,
                        enable_model_summary=False, limit_val_batches=0, default_root_dir=tmp_path)  # fmt: skip
    trainer.fit(module, _data(photos))
    assert module._compiled_forward is not None
    trainer.save_checkpoint(tmp_path / "compiled.ckpt")
    saved = torch.load(tmp_path / "compiled.ckpt", weights_only=False)["state_dict"]
    assert sorted(saved) == sorted(f"net.{name}" for name in eager)  # no extra copy of the compiled network
    for name, value in module.net.state_dict().items():
        assert torch.allclose(value, eager[name], atol=1e-5), name


def test_progress_lines_give_the_total_and_the_time_left():
    from denoise.training.progress import duration, progress_line

    assert duration(7500) == "2 h 05 min" and duration(420) == "7 min" and duration(40) == "40 s"
    line = progress_line(step=150, last=250, first=50, elapsed=50.0)
    assert line == "step 150 of 250 (50%), 2.00 steps/s, about 50 s left"
    assert progress_line(150, 250, 50, 50.0, time_left=10.0).endswith("about 10 s left")  # max_time comes first
    assert progress_line(50, 250, 50, 0.0).endswith("about unknown left")


def test_a_run_prints_its_total_steps_and_progress(photos, tmp_path, capsys):
    from denoise.training.progress import TrainingProgress

    _fit(photos, tmp_path, False, 6, callbacks=[TrainingProgress(every=3)], max_time="00:01:00:00")
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith(("training", "step"))]
    assert lines[0] == "training 6 steps: from step 0 to 6"
    assert [line.split(",")[0] for line in lines[1:]] == ["step 3 of 6 (50%)", "step 6 of 6 (100%)"]
    assert all("left" in line for line in lines[1:])
