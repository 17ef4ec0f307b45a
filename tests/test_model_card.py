"""The model card: read from the checkpoints and the leaderboard, and in step with what ships."""

from pathlib import Path

import pytest

from denoise.checkpoint import checkpoint_dir, load_checkpoint, save_checkpoint
from denoise.models import create_model
from denoise_lab.leaderboard.report import to_csv
from denoise_lab.model_card import (
    augmentation,
    card,
    config_precision,
    history,
    render,
    reproduce,
    status,
    swapped_unet,
)
from tests.helpers import SMALL_WIDTHS, random_checkpoint

ROOT = Path(__file__).resolve().parents[1]


def _rows(method, dataset, psnrs, seconds=0.5, machine="AMD EPYC (family 26, model 2)"):
    return [
        {"method": method, "dataset": dataset, "image": "a.png", "sigma": sigma, "seed": 1, "psnr": value,
         "ssim": 0.9, "seconds": seconds, "megapixels": 0.25, "machine": machine}
        for sigma, value in zip((15.0, 25.0, 50.0), psnrs, strict=True)
    ]  # fmt: skip


def test_card_reads_the_checkpoints_and_compares_with_ffdnet(tmp_path):
    folder = tmp_path / "checkpoints"
    random_checkpoint(folder / "denoise-colour.pt", channels=3)
    random_checkpoint(folder / "denoise-grey.pt", channels=1)
    rows = _rows("denoise-colour", "CBSD68", (34.0, 31.0, 28.0)) + _rows("ffdnet", "CBSD68", (33.8, 31.2, 28.0), 2.0)
    rows += _rows("denoise-colour", "Kodak24", (35.0, 32.0, 29.0), machine="")
    rows += _rows("ffdnet", "Kodak24", (35.0, 32.0, 29.0), 1.0, machine="")
    (tmp_path / "leaderboard.csv").write_text(to_csv(rows))
    text = render(folder, tmp_path)
    assert "## `denoise-colour.pt`: colour images" in text and "## `denoise-grey.pt`: grey images" in text
    assert "| CBSD68 | denoise-colour | 34.00 | 31.00 | 28.00 | 2.000 |" in text
    assert "| BSD68 | ffdnet | - | - | - | - |" in text  # not measured: said, not invented
    # mean of +0.2, -0.2, 0.0; one sigma below FFDNet; 0.5 s against 2.0 s, both timed on one machine
    assert (
        "On CBSD68: +0.00 dB against FFDNet on average (below FFDNet at 1 of 3 sigmas); time per megapixel 25% of "
        "FFDNet's, timed on one machine." in text
    )
    # the Kodak24 rows name no machine (cached before rows did): two unknown machines may differ
    assert (
        "On Kodak24: +0.00 dB against FFDNet on average (at or above FFDNet at every sigma); times not compared, as "
        "one recorded machine did not take both" in text
    )
    assert "make train EXPERIMENT=grey" in text and "make train EXPERIMENT=colour" in text
    assert "not recorded" in text  # random test weights carry no training record


def test_card_without_checkpoints_says_so(tmp_path):
    assert "No trained checkpoint ships yet." in render(tmp_path, tmp_path)


@pytest.mark.skipif(not any(checkpoint_dir().glob("*.pt")), reason="no checkpoint ships yet")
def test_shipped_card_is_up_to_date():
    assert (checkpoint_dir() / "README.md").read_text() == render(checkpoint_dir(), ROOT / "results"), (
        "checkpoints/README.md is out of date: run `make docs`"
    )


def test_status_gives_each_models_phases_and_where_it_stands_against_every_method(tmp_path):
    folder = tmp_path / "checkpoints"
    runs = [
        {"start_step": 0, "device": "cuda", "batch_size": 64},
        {"start_step": 1000, "device": "cpu", "init_from": "a.pt"},
        {"start_step": 1500, "device": "cpu", "init_from": "a.pt"},
        {"start_step": 1800, "device": "cpu", "init_from": "a.pt", "resumed": True},  # carries its phase on
    ]
    model = create_model("unet", channels=3, widths=SMALL_WIDTHS)
    save_checkpoint(folder / "denoise-colour.pt", model, global_step=2000, runs=runs)
    rows = _rows("denoise-colour", "CBSD68", (34.0, 31.0, 28.0)) + _rows("ffdnet", "CBSD68", (33.8, 31.2, 28.0))
    rows += _rows("bm3d", "CBSD68", (35.0, 30.0, 27.0)) + _rows("noisy", "CBSD68", (20.0, 18.0, 14.0))
    (tmp_path / "leaderboard.csv").write_text(to_csv(rows))
    line = status(folder, tmp_path)
    assert line.startswith("- `denoise-colour.pt` (2000 steps, by phase: GPU 1000; CPU 500, 500). On CBSD68: +0.00 dB")
    # 34 >= 33.8, 31 < 31.2, 28 >= 28 against FFDNet; the noisy input is no rival
    assert line.endswith("At or above, by sigma, on CBSD68: bm3d 2 of 3, ffdnet 2 of 3.\n")
    assert status(tmp_path / "none", tmp_path) == "No trained checkpoint ships yet.\n"


@pytest.mark.skipif(not any(checkpoint_dir().glob("*.pt")), reason="no checkpoint ships yet")
def test_shipped_status_is_up_to_date():
    assert (ROOT / "results" / "model_status.md").read_text() == status(checkpoint_dir(), ROOT / "results"), (
        "results/model_status.md is out of date: run `make docs`"
    )


def test_history_lists_each_run_with_its_steps_and_learning_rate():
    runs = [
        {"start_step": 0, "lr": 0.001, "init_from": None},
        {"start_step": 2800, "lr": 0.0002, "init_from": "runs/colour/warm.pt"},
    ]
    meta = {"global_step": 5000, "runs": runs}
    assert history(meta) == [
        "- Runs: steps 0-2800 at peak lr 0.001; steps 2800-5000 at peak lr 0.0002 (warm start from `warm.pt`)."
    ]
    assert history({"global_step": 10}) == []
    runs[1]["frozen"] = ["denoiser"]  # a blind model whose UNet stayed as it was
    assert "(warm start from `warm.pt`, `denoiser` held fixed)" in history(meta)[0]


def test_a_raw_phase_with_the_rendered_loss_says_so_and_retraces_it():
    runs = [
        {"start_step": 0, "lr": 5e-4, "init_from": None},
        {"start_step": 90, "lr": 1e-4, "init_from": "checkpoints/denoise-raw.pt", "rendered_loss_weight": 0.5},
        {"start_step": 100, "lr": 1e-4, "init_from": "checkpoints/denoise-raw.pt"},
    ]
    meta = {"global_step": 120, "runs": runs, "rendered_loss_weight": 1.0}
    commands = reproduce(meta, "raw", {}).split("`, then `")
    assert "rendered_loss_weight" not in commands[0]
    assert "--model.rendered_loss_weight 0.5" in commands[2]  # as its run recorded it
    assert "--model.rendered_loss_weight 1" in commands[4]  # recorded before runs kept it: the checkpoint's own
    assert history(meta)[0].count("the loss after the fixed rendering added at weight") == 2
    # an older checkpoint's earlier phases predate the option: without the weight, as they ran
    runs[1].pop("rendered_loss_weight")
    assert "rendered_loss_weight" not in "".join(reproduce(meta, "raw", {}).split("`, then `")[:4])
    assert "rendered" not in reproduce({"global_step": 9, "runs": runs[:1]}, "raw", {})  # no weight anywhere


def test_reproduce_retraces_each_phase_and_exports_between_them():
    gpu = ["Xeon, 16 cores, NVIDIA H100 80GB HBM3"]
    assert reproduce(
        {"global_step": 15000, "machines": gpu, "runs": [{"start_step": 0, "lr": 4e-4}]}, "colour", {}
    ) == (
        "`make data DATA_MIRROR=../shared/datasets && make train EXPERIMENT=colour TRAINER=gpu DATA_CONFIG=cbsd432 "
        'TRAIN_ARGS="--trainer'
        '.max_steps 15000"`, then `make export-checkpoint EXPERIMENT=colour`'
    )
    assert 'TRAIN_ARGS="--model.net.init_args.init kaiming"`' in reproduce({}, "colour", {"init": "kaiming"})
    small, grown = {"name": "unet", "refine_blocks": 0}, {"name": "unet", "refine_blocks": 1}
    runs = [
        {"start_step": 0, "lr": 4e-4, "init_from": None},
        {"start_step": 9000, "lr": 4e-4, "init_from": None},  # a resume: the same phase
        {"start_step": 15000, "lr": 2e-4, "init_from": "checkpoints/denoise-grey.pt", "grown_from": small,
         "restart_schedule": True},
        {"start_step": 30000, "lr": 1e-4, "init_from": "checkpoints/denoise-grey.pt"},
    ]  # fmt: skip
    text = reproduce({"global_step": 40000, "machines": gpu, "runs": runs}, "grey", grown)
    assert text.split("`, then `") == [
        "`make data DATA_MIRROR=../shared/datasets && make train EXPERIMENT=grey TRAINER=gpu DATA_CONFIG=cbsd432 "
        'TRAIN_ARGS="--trainer.max_steps 15000"',
        "make export-checkpoint EXPERIMENT=grey EXPORT_TO=runs/grey/phase1.pt",
        'make train EXPERIMENT=grey TRAINER=gpu DATA_CONFIG=cbsd432 TRAIN_ARGS="--trainer.max_steps 30000 '
        "--model.init_from "
        'runs/grey/phase1.pt --model.lr 0.0002 --model.restart_schedule true --model.net.init_args.refine_blocks 1"',
        "make export-checkpoint EXPERIMENT=grey EXPORT_TO=runs/grey/phase2.pt",
        'make train EXPERIMENT=grey TRAINER=gpu DATA_CONFIG=cbsd432 TRAIN_ARGS="--trainer.max_steps 40000 '
        "--model.init_from "
        'runs/grey/phase2.pt --model.lr 0.0001 --model.net.init_args.refine_blocks 1"',
        "make export-checkpoint EXPERIMENT=grey`",
    ]


def test_a_model_exported_with_the_blend_says_so_in_its_last_export():
    meta = {"global_step": 900, "runs": [{"start_step": 0, "lr": 1e-3}], "export_args": "--phase-blend"}
    assert reproduce(meta, "real", {}).endswith('`make export-checkpoint EXPERIMENT=real EXPORT_ARGS="--phase-blend"`')
    assert "EXPORT_ARGS" not in reproduce({**meta, "export_args": None}, "real", {})


def test_a_blind_model_given_a_newer_unet_at_export_says_which_and_reproduces_it():
    frozen = {"start_step": 155200, "lr": 1e-3, "init_from": "checkpoints/denoise-colour.pt", "frozen": ["denoiser"]}
    meta = {
        "global_step": 156200,
        "runs": [{"start_step": 0, "lr": 4e-4}, frozen],
        "export_args": "--phase-blend --denoiser checkpoints/denoise-colour.pt",
        "denoiser_from": {"file": "denoise-colour.pt", "global_step": 175200},
    }
    (line,) = swapped_unet(meta)
    assert "`denoise-colour.pt` (step 175200" in line and "beside the UNet of step 155200" in line
    assert swapped_unet({**meta, "denoiser_from": None}) == []
    assert reproduce(meta, "real", {}).endswith(
        'make export-checkpoint EXPERIMENT=real EXPORT_ARGS="--phase-blend --denoiser checkpoints/denoise-colour.pt"`'
    )


def test_a_phase_stopped_before_its_schedule_end_names_that_end_and_a_resume_stays_in_its_phase():
    first = {"start_step": 0, "lr": 4e-4, "init_from": None, "device": "cuda", "schedule_end": 17000}
    warm = {"start_step": 17000, "lr": 1e-4, "init_from": "checkpoints/denoise-grey.pt", "device": "cpu",
            "restart_schedule": True, "schedule_end": 31000}  # fmt: skip
    resumed = warm | {"start_step": 25000, "resumed": True}  # `--ckpt_path last` with the same arguments
    meta = {"global_step": 29800, "runs": [first, warm, resumed]}
    commands = reproduce(meta, "grey", {}).split("`, then `")
    assert len(commands) == 4  # two phases, each trained then exported: the resume is no third phase
    assert commands[0].endswith('TRAIN_ARGS="--trainer.max_steps 17000"')  # it ran to its schedule's end
    assert commands[2] == (
        'make train EXPERIMENT=grey DATA_CONFIG=cbsd432 TRAIN_ARGS="--trainer.max_steps 29800 '
        "--model.schedule_steps 31000 "
        '--model.init_from runs/grey/phase1.pt --model.lr 0.0001 --model.restart_schedule true"'
    )
    assert history(meta) == [
        "- Runs: steps 0-17000 at peak lr 0.0004 on GPU; steps 17000-29800 at peak lr 0.0001 on CPU (warm start "
        "from `denoise-grey.pt`, a fresh schedule; resumed once from its last save), stopped before its "
        "schedule's end at step 31000."
    ]
    finished = meta | {"global_step": 31000}
    assert "schedule_steps" not in reproduce(finished, "grey", {})
    ending = "steps 17000-31000 at peak lr 0.0001 on CPU (warm start from `denoise-grey.pt`, a fresh schedule; "
    assert history(finished)[0].endswith(ending + "resumed once from its last save).")
    # a first run resumed twice: still one phase, its resumes counted
    twice = {"global_step": 9000, "runs": [{"start_step": 0, "lr": 4e-4}, *[{"start_step": s, "lr": 4e-4,
             "resumed": True} for s in (3000, 6000)]]}  # fmt: skip
    assert history(twice) == ["- Runs: steps 0-9000 at peak lr 0.0004 (resumed twice from its last save)."]


def test_a_gpu_run_continued_on_the_cpu_is_retraced_on_each_phase_hardware(tmp_path):
    runs = [
        {"start_step": 0, "lr": 4e-4, "init_from": None, "device": "cuda", "batch_size": 64},
        {"start_step": 15000, "lr": 1e-4, "init_from": "checkpoints/denoise-colour.pt", "device": "cpu",
         "batch_size": 16, "restart_schedule": True},
    ]  # fmt: skip
    meta = {"global_step": 21600, "machines": ["Xeon, NVIDIA H100 80GB HBM3", "AMD EPYC, 2 cores"], "runs": runs}
    assert reproduce(meta, "colour", {"init": "torch"}).split("`, then `") == [
        "`make data DATA_MIRROR=../shared/datasets && make train EXPERIMENT=colour TRAINER=gpu DATA_CONFIG=cbsd432 "
        'TRAIN_ARGS="--trainer'
        '.max_steps 15000 --model.net.init_args.init torch"',
        "make export-checkpoint EXPERIMENT=colour EXPORT_TO=runs/colour/phase1.pt",
        "make train EXPERIMENT=colour DATA_CONFIG=cbsd432 "
        'TRAIN_ARGS="--trainer.max_steps 21600 --model.init_from runs/colour/phase1.pt '
        '--model.lr 0.0001 --model.restart_schedule true"',  # the CPU configs: their batch of 16
        "make export-checkpoint EXPERIMENT=colour`",
    ]
    assert history(meta) == [
        "- Runs: steps 0-15000 at peak lr 0.0004 on GPU, batches of 64; steps 15000-21600 at peak lr 0.0001 on CPU, "
        "batches of 16 (warm start from `denoise-colour.pt`, a fresh schedule)."
    ]
    seeded = {"start_step": 21600, "lr": 1e-4, "init_from": "checkpoints/denoise-colour.pt", "device": "cpu",
              "batch_size": 16, "restart_schedule": True, "seed": 2, "data_seed": 2}  # fmt: skip
    third = reproduce(meta | {"global_step": 28800, "runs": [*runs, seeded]}, "colour", {"init": "torch"})
    third = third.split("`, then `")
    assert third[3] == "make export-checkpoint EXPERIMENT=colour EXPORT_TO=runs/colour/phase2.pt"  # seeds 0: unnamed
    assert third[4] == (
        "make train EXPERIMENT=colour DATA_CONFIG=cbsd432 "
        'TRAIN_ARGS="--trainer.max_steps 28800 --model.init_from runs/colour/phase2.pt '
        '--model.lr 0.0001 --model.restart_schedule true --seed_everything 2 --data.seed 2"'
    )
    # a fourth phase on the CPU in bf16 (the CPU config trains in float32): the precision is named
    bf16 = seeded | {"start_step": 28800, "seed": 3, "data_seed": 3, "precision": "bf16-mixed"}
    fourth = reproduce(meta | {"global_step": 42000, "runs": [*runs, seeded, bf16]}, "colour", {"init": "torch"})
    assert fourth.split("`, then `")[6] == (
        "make train EXPERIMENT=colour DATA_CONFIG=cbsd432 "
        'TRAIN_ARGS="--trainer.max_steps 42000 --trainer.precision bf16-mixed '
        "--model.init_from runs/colour/phase3.pt --model.lr 0.0001 --model.restart_schedule true "
        '--seed_everything 3 --data.seed 3"'
    )
    assert history(meta | {"global_step": 42000, "runs": [bf16]}) == [
        "- Runs: steps 28800-42000 at peak lr 0.0001 on CPU in bf16-mixed, batches of 16 (warm start from "
        "`denoise-colour.pt`, a fresh schedule)."
    ]
    # the configs' own precisions are not named: float32 on the CPU, bf16 on the GPU
    assert (config_precision("cpu"), config_precision("gpu")) == ("32-true", "bf16-mixed")
    usual = [runs[0] | {"precision": "bf16-mixed"}, runs[1] | {"precision": "32-true"}]
    assert "--trainer.precision" not in reproduce(meta | {"runs": usual}, "colour", {"init": "torch"})
    assert (
        " in bf16" not in history(meta | {"runs": usual})[0] and " in 32-true" not in history(meta | {"runs": usual})[0]
    )
    path = random_checkpoint(tmp_path / "denoise-colour.pt", channels=3)
    model, _ = load_checkpoint(path)
    save_checkpoint(path, model, **meta, lr=1e-4, data={"batch_size": 16, "patch_size": 128})  # the last run's
    text = "\n".join(card(path, {}, tmp_path))
    assert "random 128x128 patches, batches per run (below)," in text and "AdamW peak lr per run (below)," in text


def test_card_lists_unfinished_runs_without_shipping_them(tmp_path):
    random_checkpoint(tmp_path / "in-training" / "denoise-colour.pt", channels=3)
    text = render(tmp_path, tmp_path)
    assert "No trained checkpoint ships yet." in text
    assert "- `in-training/denoise-colour.pt`: `unet`, 3 channel(s), step ?" in text


def test_a_blind_model_grown_from_the_colour_one_retraces_both_experiments():
    """The phases before the network became blind were the colour model's: `make train EXPERIMENT=colour`."""
    colour = {"name": "unet", "channels": 3, "widths": (8, 16)}
    runs = [
        {"start_step": 0, "lr": 4e-4, "device": "cpu"},
        {"start_step": 100, "lr": 1e-4, "device": "cpu", "init_from": "a.pt", "restart_schedule": True},
        {"start_step": 200, "lr": 1e-4, "device": "cpu", "init_from": "b.pt", "grown_from": colour},
    ]
    line = reproduce({"runs": runs, "global_step": 300}, "real", {"name": "blind_unet", "channels": 3})
    commands = line.split("`, then `")
    assert [c.split("EXPERIMENT=")[1].split()[0] for c in commands if "make train" in c] == ["colour", "colour", "real"]
    assert "--model.init_from runs/colour/phase2.pt" in commands[4]
    mixed = [runs[0] | {"train_sets": ["CBSD432", "Wallpapers25"]}]
    assert "DATA_CONFIG" not in reproduce({"runs": mixed, "global_step": 50}, "colour", colour)  # the default's data
    assert "DATA_CONFIG=cbsd432" in reproduce({"runs": runs[:1], "global_step": 50}, "colour", colour)
    grey = colour | {"channels": 1}
    assert "DATA_CONFIG=cbsd432" in reproduce({"runs": runs[:1], "global_step": 50}, "grey", grey)
    assert "DATA_CONFIG" not in reproduce({"runs": mixed, "global_step": 50}, "grey", grey)
    recorded = [run | {"noise": "raw"} for run in runs[:1]]
    assert "EXPERIMENT=raw" in reproduce({"runs": recorded, "global_step": 50}, "raw", {"name": "unet"})


def test_the_colour_jitter_is_named_for_colour_runs_only():
    data = {"downscales": [0.5], "downscale_min_side": 1000, "hue_p": 0.5, "permute_p": 0.5}
    assert augmentation(data) == ", photos with a side of 1000 px or more also at 0.5 scale, hue rotated (p 0.5), " \
        "channels permuted (p 0.5)"  # fmt: skip
    assert augmentation({**data, "grey": True}) == ", photos with a side of 1000 px or more also at 0.5 scale"
