"""The equal-CPU-time ablation: a tiny plan on a few photos, its records, report, plot and resume."""

import json
import time
from pathlib import Path

import lightning as L
import pytest
import skimage.data
import torch
import yaml

from denoise.data.datamodule import DenoiseDataModule
from denoise.io import ImageData, write_image
from denoise.models import create_model
from denoise.training.lit_module import DenoiseLitModule
from denoise_lab.ablation import (
    CPUTimeBudget,
    expand_repeats,
    fingerprint,
    main,
    plot,
    read_records,
    render_markdown,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Six 96x128 crops: four to train on, two held out."""
    root = tmp_path_factory.mktemp("photos")
    for index, photo in enumerate([skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea()]):
        for half in range(2):
            write_image(root / f"{index}{half}.png", ImageData(photo[96 * half : 96 * half + 96, :128]))
    return root


def _plan(tmp_path: Path, photos: Path, variants: dict) -> Path:
    plan = yaml.safe_load((ROOT / "configs" / "ablation.yaml").read_text())
    plan["base"] = [str(ROOT / config) for config in plan["base"]]
    plan["cpu_seconds"] = 1.0
    plan["fixed"]["model"]["net"] = {"init_args": {"widths": [8, 16]}}
    plan["fixed"]["data"].update(
        train_sets=[str(photos)],
        train_images=4,
        val_set=str(photos),
        val_skip=4,
        val_images=2,
        patch_size=32,
        batch_size=2,
    )
    plan["variants"] = variants
    plan.pop("repeat", None)  # the real plan's repeated designs are not among these variants
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


def test_cpu_time_budget_stops_training():
    module = DenoiseLitModule(create_model("unet", widths=[8, 16]), warmup_steps=1)
    trainer = L.Trainer(
        max_steps=-1,
        max_epochs=-1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        callbacks=[CPUTimeBudget(0.5)],
    )
    started = time.process_time()
    trainer.fit(module, torch.utils.data.DataLoader(torch.rand(64, 3, 16, 16), batch_size=2))
    assert 0.5 <= time.process_time() - started < 30  # it stopped, soon after the budget
    assert trainer.global_step > 0
    # no step limit: after warm-up the learning rate holds instead of following a schedule of unknown length
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(module.hparams.lr)


def test_validation_can_skip_images_held_out_of_training(photos):
    data = DenoiseDataModule(
        train_sets=[str(photos)], train_images=4, val_set=str(photos), val_skip=4, patch_size=32, num_workers=0
    )
    data.setup("fit")
    assert len(data.val_dataset) == 2 and len(data.bank.sizes) == 4
    with pytest.raises(ValueError, match="no validation images left"):
        DenoiseDataModule(val_set=str(photos), val_skip=6).setup("validate")


def test_ablation_trains_each_variant_writes_a_report_and_resumes(photos, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    variants = {"baseline": {}, "loss_l2": {"model": {"loss": "l2"}}}
    plan = _plan(tmp_path, photos, variants)
    out = tmp_path / "results" / "ablation"
    assert main(["--plan", str(plan), "--out", str(out)]) == 0
    results = {record["variant"]: record for record in read_records(out.with_suffix(".jsonl"))}
    assert set(results) == set(variants)
    for record in results.values():
        assert record["cpu_seconds"] >= 1.0 and record["steps"] > 0
        assert record["model"]["widths"] == [8, 16] and record["gmacs_per_mp"] > 0
        assert all(10 < record[f"psnr_{s}"] < 60 for s in (15, 25, 50))
    assert results["loss_l2"]["loss"] == "l2" and results["baseline"]["loss"] == "l1"
    report = out.with_suffix(".md").read_text()
    assert "| baseline " in report and "| loss_l2 " in report and "+0.00" in report  # 1 s runs may carry (!)
    assert out.with_suffix(".png").stat().st_size > 10_000
    # a second run trains nothing new; --only with --rerun trains just that variant again
    capsys.readouterr()
    assert main(["--plan", str(plan), "--out", str(out)]) == 0
    assert "training for" not in capsys.readouterr().out
    assert main(["--plan", str(plan), "--out", str(out), "--only", "loss_l2", "--rerun"]) == 0
    lines = out.with_suffix(".jsonl").read_text().splitlines()
    assert [json.loads(line)["variant"] for line in lines] == ["baseline", "loss_l2", "loss_l2"]
    # a change to the fixed settings makes every record stale: both variants train again, the old lines stay
    original = plan.read_text()
    changed = yaml.safe_load(original)
    changed["fixed"]["model"]["lr"] = 0.002
    plan.write_text(yaml.safe_dump(changed))
    capsys.readouterr()
    assert main(["--plan", str(plan), "--out", str(out)]) == 0
    assert capsys.readouterr().out.count("training for") == 2
    records = read_records(out.with_suffix(".jsonl"))
    assert len(records) == 5 and records[0]["fingerprint"] != records[3]["fingerprint"]
    # back to the first plan: its records count again (the latest of each), nothing trains
    plan.write_text(original)
    assert main(["--plan", str(plan), "--out", str(out)]) == 0
    assert "training for" not in capsys.readouterr().out
    report = out.with_suffix(".md").read_text()
    row = next(line for line in report.splitlines() if line.startswith("| loss_l2"))  # its --rerun record
    assert f"| {records[2]['psnr_15']:.2f} | {records[2]['psnr_25']:.2f} | {records[2]['psnr_50']:.2f} |" in row


def test_the_fingerprint_follows_the_settings_a_variant_trains_with(photos, tmp_path):
    plan = yaml.safe_load(_plan(tmp_path, photos, {"baseline": {}, "loss_l2": {"model": {"loss": "l2"}}}).read_text())
    before = {name: fingerprint(plan, name) for name in plan["variants"]}
    assert before["baseline"] != before["loss_l2"]
    plan["variants"]["loss_l2"] = {"model": {"loss": "charbonnier"}}  # another variant's overrides: no effect
    assert fingerprint(plan, "baseline") == before["baseline"] != (charbonnier := fingerprint(plan, "loss_l2"))
    trainer = tmp_path / "trainer.yaml"  # the base configs count by their settings, not their text or name
    text = Path(plan["base"][0]).read_text()
    assert "gradient_clip_val: 1.0" in text and "log_every_n_steps: 20" in text
    plan["base"][0] = str(trainer)
    trainer.write_text(text.replace("log_every_n_steps: 20", "log_every_n_steps: 20  # a comment"))
    assert fingerprint(plan, "baseline") == before["baseline"]
    model = tmp_path / "model.yaml"  # widths the fixed settings override anyway
    model.write_text(Path(plan["base"][1]).read_text().replace("widths: [64, 96, 128, 256]", "widths: [16, 32]"))
    assert model.read_text() != Path(plan["base"][1]).read_text()
    assert (
        fingerprint({**plan, "base": [plan["base"][0], str(model), plan["base"][2]]}, "baseline") == before["baseline"]
    )
    trainer.write_text(text.replace("gradient_clip_val: 1.0", "gradient_clip_val: 0.5"))
    assert fingerprint(plan, "baseline") != before["baseline"] and fingerprint(plan, "loss_l2") != charbonnier
    trainer.write_text(text)
    assert fingerprint({**plan, "cpu_seconds": 2.0}, "baseline") != before["baseline"]


def test_ablation_bad_plan_or_variant_is_one_line(photos, tmp_path, capsys):
    assert main(["--plan", str(tmp_path / "missing.yaml")]) == 2
    assert "error:" in capsys.readouterr().err
    plan = _plan(tmp_path, photos, {"baseline": {}})
    assert main(["--plan", str(plan), "--only", "nope"]) == 2
    assert "unknown variant(s) nope" in capsys.readouterr().err
    plan.write_text(plan.read_text() + "repeat: {seeds: [1], variants: [wide]}\n")
    assert main(["--plan", str(plan)]) == 2
    assert capsys.readouterr().err == "error: repeat: no variant 'wide' to repeat; the plan has baseline\n"


def _record(name: str, mean: float) -> dict:
    """A made-up record scoring ``mean`` + 3, ``mean`` and ``mean`` - 3 dB at sigma 15, 25 and 50."""
    record = {"model": {"name": "unet", "encoding": "dct", "widths": [8]}, "loss": "l1", "patch_size": 32}
    record |= {"batch_size": 2, "parameters": 1e6, "gmacs_per_mp": 1.0, "steps": 1, "train_megapixels": 1.0}
    return record | {"variant": name, "psnr_15": mean + 3, "psnr_25": mean, "psnr_50": mean - 3}


def test_a_variant_no_better_than_its_noisy_input_is_flagged():
    plan = {"cpu_seconds": 1, "variants": {"baseline": {}, "broken": {}}}
    trained = _record("baseline", 27.0)
    broken = _record("broken", 20.0) | {"psnr_15": 24.2, "psnr_25": 20.8, "psnr_50": 15.7}  # +0.58 dB on average
    report = render_markdown(plan, {"baseline": trained, "broken": broken}, "plan.yaml")
    assert "| broken (!) |" in report and "| baseline |" in report
    assert "(!) Less than 1 dB above the noisy input on average (the noisy input scores 24.61 / 20.17 / 14.15" in report
    assert "(!)" not in render_markdown(plan, {"baseline": trained}, "plan.yaml")


def test_repeat_spells_out_seeded_copies_of_its_designs():
    plan = {"fixed": {"seed_everything": 0}, "repeat": {"seeds": [1, 2], "variants": ["haar"]}}
    plan["variants"] = {
        "baseline": {},
        "haar": {"model": {"net": {"init_args": {"encoding": "haar"}}}, "data": {"x": 3}},
    }
    variants = expand_repeats(plan)["variants"]
    assert list(variants) == ["baseline", "haar", "haar_seed_1", "haar_seed_2"]
    assert variants["haar_seed_2"] == {
        "model": {"net": {"init_args": {"encoding": "haar"}}},
        "data": {"x": 3, "seed": 2},
        "seed_everything": 2,
    }
    assert plan["variants"]["haar"]["data"] == {"x": 3}  # the plan itself is left as it was
    with pytest.raises(ValueError, match="no variant 'wide' to repeat"):
        expand_repeats({**plan, "repeat": {"seeds": [1], "variants": ["wide"]}})
    with pytest.raises(ValueError, match="haar_seed_1 is also a variant of its own"):
        expand_repeats({**plan, "variants": {**plan["variants"], "haar_seed_1": {}}})


def test_a_repeated_design_trains_as_its_hand_written_seeded_variant(photos, tmp_path):
    """Records of seeded variants written out by hand (as earlier plans did) still count under ``repeat``."""
    by_hand = yaml.safe_load(_plan(tmp_path, photos, {"baseline": {}, "baseline_seed_1": {}}).read_text())
    by_hand["variants"]["baseline_seed_1"] = {"seed_everything": 1, "data": {"seed": 1}}
    repeated = expand_repeats(
        {**by_hand, "variants": {"baseline": {}}, "repeat": {"seeds": [1], "variants": ["baseline"]}}
    )
    assert fingerprint(repeated, "baseline_seed_1") == fingerprint(by_hand, "baseline_seed_1")
    assert fingerprint(repeated, "baseline_seed_1") != fingerprint(repeated, "baseline")


def test_the_report_gives_each_repeated_design_its_spread_and_seed_by_seed_difference(tmp_path):
    plan = expand_repeats(
        {"cpu_seconds": 1, "repeat": {"seeds": [1, 2], "variants": ["baseline", "haar"]}}
        | {"variants": {"baseline": {}, "haar": {}, "l2": {}}}
    )
    means = {"baseline": 25.0, "baseline_seed_1": 5.0, "baseline_seed_2": 24.0}  # seed 1 diverged
    means |= {"haar": 26.0, "haar_seed_1": 25.0, "haar_seed_2": 23.5, "l2": 24.0}
    results = {name: _record(name, mean) for name, mean in means.items()}
    report = render_markdown(plan, results, "plan.yaml")
    # the baseline design's reference is the mean of its runs that trained: (25 + 24) / 2
    assert "| haar | unet, dct, 8 |" in report and report.count("| +1.50 |") == 1
    assert "| baseline_seed_1 (!) |" in report and "| l2 | unet, dct, 8 |" in report
    assert "trained from seeds 0, 1, 2" in report
    assert "| haar | 3 of 3 | 24.83 | 23.50 | 26.00 | +0.25 (-0.50 to +1.00) | 1 of 2 |" in report
    assert "| baseline | 2 of 3 | 24.50 | 24.00 | 25.00 | - | - |" in report
    assert "| l2 | " not in report.split("Run to run")[1]  # a single run has no spread
    assert plot(plan, results, tmp_path / "ablation.png") and (tmp_path / "ablation.png").stat().st_size > 10_000
    del results["baseline"], results["baseline_seed_2"], results["baseline_seed_1"]
    assert not plot(plan, results, tmp_path / "none.png")  # no baseline run: nothing to compare against
    assert "| haar | 3 of 3 | 24.83 | 23.50 | 26.00 | - | - |" in render_markdown(plan, results, "plan.yaml")


def test_the_report_names_what_the_plan_scores_on():
    plan = {"cpu_seconds": 1, "variants": {"baseline": {}}}
    results = {"baseline": _record("baseline", 27.0)}
    assert "scored on CBSD432 images held out of its training," in render_markdown(plan, results, "plan.yaml")
    photos = {**plan, "scored_on": "3 held-out photographs"}
    assert "scored on 3 held-out photographs," in render_markdown(photos, results, "plan.yaml")


def test_a_plan_without_a_cpu_budget_trains_equal_steps_and_records_its_curve(photos, tmp_path, capsys):
    plan = yaml.safe_load(_plan(tmp_path, photos, {"baseline": {}}).read_text())
    plan["cpu_seconds"] = None
    path = tmp_path / "steps.yaml"
    path.write_text(yaml.safe_dump(plan))
    assert main(["--plan", str(path), "--out", str(tmp_path / "none")]) == 2  # nothing would end the runs
    assert "cpu_seconds is null, so fixed.trainer.max_steps must bound every run" in capsys.readouterr().err
    plan["fixed"]["trainer"].update(max_steps=4, val_check_interval=2)
    plan["fixed"]["model"].update(schedule_steps=4, final_lr_ratio=0.01)
    path.write_text(yaml.safe_dump(plan))
    out = tmp_path / "steps"
    assert main(["--plan", str(path), "--out", str(out)]) == 0
    (record,) = read_records(out.with_suffix(".jsonl"))
    assert record["steps"] == 4 and [point[0] for point in record["curve"]] == [2, 4]
    assert record["curve"][-1][1:] == pytest.approx([record[f"psnr_{s}"] for s in (15, 25, 50)])
    report = out.with_suffix(".md").read_text()
    assert "at equal steps" in report and f"trained for 4 steps ({plan['threads']} threads)" in report
    assert "| baseline | " in report.split("Validation during training")[1]
    assert (tmp_path / "steps_curves.png").stat().st_size > 10_000


def test_the_report_names_records_copied_from_another_ablation():
    plan = {"cpu_seconds": 1, "variants": {"baseline": {}, "wide": {}}}
    results = {"baseline": _record("baseline", 27.0), "wide": _record("wide", 27.5)}
    assert "copied" not in render_markdown(plan, results, "plan.yaml")
    results["baseline"]["copied_from"] = "other.jsonl, its saturation run"
    report = render_markdown(plan, results, "plan.yaml")
    assert "fingerprint): baseline from other.jsonl, its saturation run." in report
