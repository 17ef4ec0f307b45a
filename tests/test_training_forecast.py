import json
import math

import pytest
import torch

from denoise.checkpoint import save_checkpoint
from denoise.models import create_model
from denoise_lab.forecast import (
    ForecastError,
    Phase,
    PhaseEnd,
    gain_per_doubling,
    main,
    phase_ends,
    phases,
    training_needed,
)
from denoise_lab.leaderboard.cache import cache_key
from denoise_lab.leaderboard.methods import checkpoint_method
from tests.helpers import SMALL_WIDTHS

RATE = 0.25  # dB per doubling of the synthetic runs below


def _csv(path, steps, validations, speed=None):
    """A Lightning metrics.csv: a training row at the last step, validation rows {one-based step: psnr at 25}."""
    lines = ["epoch,step,train/steps_per_s,val/psnr_25"]
    lines += [f"0,{step - 1},,{psnr}" for step, psnr in validations.items()]
    lines.append(f"0,{steps - 1},{speed or ''},")
    path.write_text("\n".join(lines) + "\n")


def test_phases_end_where_the_next_warm_start_begins_and_a_resume_carries_its_phase_on():
    metadata = {
        "global_step": 500,
        "runs": [
            {"start_step": 0, "batch_size": 64},
            {"start_step": 100, "batch_size": 16, "init_from": "a.pt"},
            {"start_step": 300, "batch_size": 16, "init_from": "a.pt"},  # a warm start ...
            {"start_step": 420, "batch_size": 16, "init_from": "a.pt", "resumed": True},  # ... killed and resumed
        ],
    }
    assert phases(metadata) == [Phase(0, 100, 64), Phase(100, 300, 16), Phase(300, 500, 16)]
    with pytest.raises(ForecastError, match="records no training runs"):
        phases({"global_step": 10})


def test_phase_ends_count_patches_across_batch_sizes_and_use_the_last_validation_within_the_phase(tmp_path):
    _csv(tmp_path / "a.csv", 100, {50: 20.0, 100: 21.0})
    _csv(tmp_path / "b.csv", 250, {100: 22.0, 200: 23.0, 250: 99.0})  # ran 50 steps past its export at 200
    ends = phase_ends([Phase(0, 100, 64), Phase(100, 300, 16)], ["a.csv", "b.csv"], tmp_path)
    assert [(end.name, end.patches, end.psnr) for end in ends] == [
        ("a.csv", 6400, {"25": 21.0}),
        ("b.csv", 6400 + 200 * 16, {"25": 23.0}),
    ]


def test_phase_ends_refuse_a_lineage_that_does_not_fit_the_checkpoints_record(tmp_path):
    _csv(tmp_path / "a.csv", 100, {100: 21.0})
    _csv(tmp_path / "short.csv", 150, {100: 22.0})
    with pytest.raises(ForecastError, match="names 1 metrics CSVs for a checkpoint trained in 2 phases"):
        phase_ends([Phase(0, 100, 64), Phase(100, 300, 16)], ["a.csv"], tmp_path)
    with pytest.raises(ForecastError, match="short.csv logged 150 steps but its phase .* is 200 long"):
        phase_ends([Phase(0, 100, 64), Phase(100, 300, 16)], ["a.csv", "short.csv"], tmp_path)


def test_rate_is_the_slope_per_doubling_and_the_training_needed_follows_from_it():
    points = [PhaseEnd(f"{n}", n, {"25": 30 + RATE * math.log2(n)}) for n in (1000, 3000, 8000, 20000)]
    assert gain_per_doubling(points, "25") == pytest.approx(RATE)
    assert training_needed(0.5, RATE) == pytest.approx(4.0)  # two doublings
    assert training_needed(-0.1, RATE) == 1.0  # already level
    assert training_needed(0.5, -0.01) == math.inf
    with pytest.raises(ForecastError):
        gain_per_doubling(points[:1], "25")


def _project(tmp_path):
    """Two phases of synthetic training gaining RATE per doubling, a checkpoint recording them, and a cache in which
    FFDNet is 0.5 dB above it on the validation images and 0.25 dB above it on a second set."""
    folder = tmp_path / "training"
    folder.mkdir()
    # phase 1: 100 steps of 16 patches (1600), phase 2: 300 steps of 16 (6400 in all: two doublings)
    _csv(folder / "one.csv", 100, {100: 30.0})
    _csv(folder / "two.csv", 300, {300: 30.0 + 2 * RATE}, speed=1 / 3)
    (folder / "lineage.json").write_text(json.dumps({"model.pt": ["one.csv", "two.csv"]}))
    torch.manual_seed(0)
    checkpoint = tmp_path / "model.pt"
    metadata = {
        "global_step": 400,
        "runs": [{"start_step": 0, "batch_size": 16}, {"start_step": 100, "batch_size": 16, "init_from": "model.pt"}],
        "data": {"val_set": "VAL", "val_images": 2, "val_sigmas_255": [25.0]},
        "machines": ["a test machine"],
    }
    save_checkpoint(checkpoint, create_model("unet", channels=3, widths=SMALL_WIDTHS), **metadata)
    ours = checkpoint_method(checkpoint).key
    rows = []
    for key, method, dataset, image, psnr in [
        (ours, "model", "VAL", "a.png", 30.5),
        (ours, "model", "VAL", "b.png", 30.5),
        (ours, "model", "VAL", "c.png", 29.5),  # not a validation image (only the first 2 are)
        ("ffdnet-1", "ffdnet", "VAL", "a.png", 31.0),
        ("ffdnet-1", "ffdnet", "VAL", "b.png", 31.0),
        ("ffdnet-1", "ffdnet", "VAL", "c.png", 30.0),
        (ours, "model", "OTHER", "x.png", 28.0),
        ("ffdnet-1", "ffdnet", "OTHER", "x.png", 28.25),
    ]:
        row = {"key": cache_key(key, dataset, image, 25.0, 0), "method": method, "dataset": dataset}
        rows.append({**row, "image": image, "sigma": 25.0, "psnr": psnr})
    cache = tmp_path / "cache.jsonl"
    cache.write_text("".join(json.dumps(row) + "\n" for row in rows))
    args = [str(folder), "--cache", str(cache), "--checkpoint", str(checkpoint), "--last", "2"]
    return args, tmp_path / "forecast.md"


def test_forecast_reports_rates_gaps_training_and_hours_and_plots_them(tmp_path):
    args, out = _project(tmp_path)
    assert main([*args, "--out", str(out)]) == 0
    text = out.read_text()
    # validation: ours 30.50 now, FFDNet 31.00 on the first two images, RATE per doubling
    assert "| 25 | 30.50 | 31.00 | +0.250 | - |" in text
    # the whole VAL set: 0.5 dB is two doublings (x4): 3 x 6400 patches more at 1/3 step/s of 16 patches is an hour
    assert "| VAL | 25 | 30.17 | 30.67 | +0.50 | 4.0 | 1.0 |" in text
    assert "| OTHER | 25 | 28.00 | 28.25 | +0.25 | 2.0 | 0.3 |" in text
    assert out.with_suffix(".png").stat().st_size > 0


def test_missing_records_are_one_line_errors(tmp_path, capsys):
    args, out = _project(tmp_path)
    (tmp_path / "training" / "lineage.json").write_text("{}")
    assert main([*args, "--out", str(out)]) == 2
    assert "does not name the metrics CSVs of model.pt" in capsys.readouterr().err
    (tmp_path / "training" / "lineage.json").write_text(json.dumps({"model.pt": ["one.csv", "two.csv"]}))
    (tmp_path / "cache.jsonl").write_text("")
    assert main([*args, "--out", str(out)]) == 2
    assert "should hold one version of ffdnet, it holds none" in capsys.readouterr().err
    assert not out.exists()
