"""The studies of a trained model (blind sigma, sigma maps, real photos), run on random small networks.

Random weights say nothing of quality; these tests check what each command measures and writes.
"""

import numpy as np
import pytest
import torch

from denoise.checkpoint import load_checkpoint, save_checkpoint
from denoise.data.images import list_images, read_uint8
from denoise.io import ImageData, read_image, write_image
from denoise.precision import native_bfloat16
from denoise.protocol import image_seed, score_image
from denoise_lab.studies import blind, real_noise, sigma_map, tile_consistency
from tests.helpers import photo, random_checkpoint


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A colour set and a grey+colour set of two photos each, and a checkpoint folder with both models."""
    root = tmp_path_factory.mktemp("studies")
    for index in range(2):
        image = np.round(photo(64 + 16 * index, 96) * 255).astype(np.uint8)
        write_image(root / "colour" / f"c{index}.png", ImageData(image))
    write_image(root / "mixed" / "grey.png", ImageData(np.round(photo(64, 80, grey=True) * 255).astype(np.uint8)))
    write_image(root / "mixed" / "rgb.png", ImageData(np.round(photo(80, 64) * 255).astype(np.uint8)))
    random_checkpoint(root / "models" / "denoise-colour.pt", channels=3)
    random_checkpoint(root / "models" / "denoise-grey.pt", channels=1)
    return root


@pytest.fixture
def shipped(folders, monkeypatch):
    monkeypatch.setenv("DENOISE_CHECKPOINTS", str(folders / "models"))


def _table(path):
    return [line for line in path.read_text().splitlines() if line.startswith("| ") and "---" not in line][1:]


def test_ramp_map_and_noise():
    ramp = sigma_map.ramp_map(3, 46)
    assert ramp.shape == (3, 46) and ramp[0, 0] == pytest.approx(5 / 255) and ramp[2, -1] == pytest.approx(50 / 255)
    assert np.all(np.diff(ramp, axis=1) > 0) and np.all(ramp == ramp[0])
    clean = np.full((4000, 46, 3), 0.5, np.float32)
    noisy = sigma_map.ramp_noise(clean, sigma_map.ramp_map(4000, 46), seed=1)
    measured = (noisy - clean).reshape(-1, 46, 3).std(axis=(0, 2)) * 255  # per column
    assert np.allclose(measured, np.linspace(5, 50, 46), rtol=0.05)
    assert noisy.max() > 1  # unclipped


def test_blind_study_reports_true_and_estimated_sigma(folders, shipped, tmp_path, capsys):
    out = tmp_path / "blind.md"
    assert blind.main(["--dataset", str(folders / "colour"), "--sigmas255", "15,50", "--out", str(out)]) == 0
    rows = _table(out)
    assert [row.split("|")[1].strip() for row in rows] == ["15", "50"]
    for row, sigma in zip(rows, (15, 50), strict=True):
        known, estimated, loss, estimate = (float(cell) for cell in row.split("|")[2:6])
        assert loss == pytest.approx(known - estimated, abs=0.002)
        assert estimate == pytest.approx(sigma, rel=0.2)  # the estimator, on tiny photos


def test_sigma_map_study_compares_the_map_with_single_sigmas(folders, shipped, tmp_path):
    out = tmp_path / "sigma_map.md"
    assert sigma_map.main(["--dataset", str(folders / "colour"), "--out", str(out)]) == 0
    rows = _table(out)
    assert [row.split("|")[1].strip().split(" (")[0] for row in rows] == [
        "true sigma map",
        "best single sigma for the set",
        "best single sigma per image",
    ]
    values = [float(row.split("|")[2]) for row in rows]
    assert values[2] >= values[1]  # the per-image oracle is at least the set's best
    assert float(rows[0].split("|")[3]) == 0.0


def test_real_noise_sheet_has_a_pair_per_photo(folders, shipped, tmp_path, capsys):
    out = tmp_path / "sheet.png"
    assert real_noise.main(["--dataset", str(folders / "mixed"), "--crop", "48", "--out", str(out)]) == 0
    sheet = read_image(out).pixels
    panel = 48 + 36  # crop + caption strip
    assert sheet.shape == (panel, 4 * 48, 3)  # two photos: one row of two (noisy | denoised) pairs
    printed = capsys.readouterr().out
    assert "grey.png: estimated sigma" in printed and "rgb.png: estimated sigma" in printed


def test_studies_fail_in_one_line_without_data_or_model(folders, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DENOISE_CHECKPOINTS", str(tmp_path / "none"))
    assert blind.main(["--dataset", str(folders / "colour"), "--out", str(tmp_path / "x.md")]) == 2
    assert "no trained checkpoint" in capsys.readouterr().err
    monkeypatch.setenv("DENOISE_CHECKPOINTS", str(folders / "models"))
    assert sigma_map.main(["--dataset", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.md")]) == 2
    assert capsys.readouterr().err.startswith("error:")
    assert not (tmp_path / "x.md").exists()


def _rows(path):
    return {row.split("|")[1].strip(): [cell.strip() for cell in row.split("|")[2:5]] for row in _table(path)}


def test_tile_consistency_compares_tiles_with_one_whole_image_pass(folders, tmp_path):
    checkpoint = folders / "models" / "denoise-colour.pt"
    out = tmp_path / "tiles.md"
    args = ["--checkpoint", str(checkpoint), "--dataset", str(folders / "colour"), "--tiles", "64", "--out", str(out)]
    assert tile_consistency.main(args) == 0
    rows = _rows(out)
    assert list(rows) == ["whole image", "tiles of at most 64 x 64"]
    whole, tiled = float(rows["whole image"][1]), float(rows["tiles of at most 64 x 64"][1])
    assert rows["tiles of at most 64 x 64"][0] == "16"  # overlap
    assert float(rows["tiles of at most 64 x 64"][2]) == pytest.approx(tiled - whole, abs=0.006)
    # "whole image" is one pass of the network over each image, as the validation of a training run does it
    model, _ = load_checkpoint(checkpoint)
    direct = [
        score_image(lambda noisy, sigma: model(torch.from_numpy(noisy).permute(2, 0, 1)[None], sigma)[0]
                    .permute(1, 2, 0).detach().numpy(), read_uint8(path), 25.0, image_seed(path)).psnr
        for path in list_images(folders / "colour")
    ]  # fmt: skip
    assert whole == pytest.approx(np.mean(direct), abs=0.006)


def test_a_model_blind_to_tiling_shows_no_difference(folders, tmp_path):
    model, _ = load_checkpoint(folders / "models" / "denoise-colour.pt")
    torch.nn.init.zeros_(model.last_layer.weight)
    torch.nn.init.zeros_(model.last_layer.bias)  # predicts no noise: returns its input, however it is cut
    save_checkpoint(tmp_path / "identity.pt", model, note="returns its input")
    out = tmp_path / "tiles.md"
    args = ["--checkpoint", str(tmp_path / "identity.pt"), "--dataset", str(folders / "colour"), "--out", str(out)]
    assert tile_consistency.main([*args, "--tiles", "64,96"]) == 0
    assert [values[2] for values in _rows(out).values()] == ["0.00", "+0.00", "+0.00"]
    assert tile_consistency.main([*args, "--tiles", "48"]) == 2  # not a multiple of 32


def test_heldout_scores_checkpoints_on_the_images_a_config_holds_out(tmp_path, monkeypatch):
    import yaml

    from denoise_lab.heldout import main as heldout_main

    for folder, count in (("setA", 3), ("setB", 2)):
        for index in range(count):
            write_image(tmp_path / folder / f"{index}.png", ImageData(np.round(photo(64, 96) * 255).astype(np.uint8)))
    config = tmp_path / "data.yaml"
    data = {"train_sets": [str(tmp_path / "setA"), str(tmp_path / "setB")], "val_set": None, "val_crop": 48,
            "holdout": {str(tmp_path / "setA"): 1, str(tmp_path / "setB"): 1}, "val_sigmas_255": [25.0]}  # fmt: skip
    config.write_text(yaml.safe_dump({"data": data}))
    checkpoint = random_checkpoint(tmp_path / "random.pt")
    out = tmp_path / "heldout.md"
    assert heldout_main([str(checkpoint), "--config", str(config), "--out", str(out)]) == 0
    table = out.read_text()
    assert f"1 of {tmp_path / 'setA'}, 1 of {tmp_path / 'setB'}, central 48 x 48 crops" in table
    row = next(line for line in table.splitlines() if line.startswith(f"| {checkpoint}"))
    assert len(row.split("|")) == 2 + 2 + 2  # the name, two set columns at one sigma, the mean
    assert "setA 25 |" in table
    assert heldout_main([str(checkpoint), "--config", str(config), "--noise", "camera", "--out", str(out)]) == 0
    table = out.read_text()
    assert "seeded camera noise, denoised as without --sigma" in table and f"{tmp_path / 'setB'} camera |" in table
    assert heldout_main([str(tmp_path / "missing.pt"), "--config", str(config), "--out", str(out)]) == 2
    grey = random_checkpoint(tmp_path / "grey.pt", channels=1)
    assert heldout_main([str(grey), "--config", str(config), "--grey", "--out", str(out)]) == 0
    grey_row = next(line for line in out.read_text().splitlines() if line.startswith(f"| {grey}"))
    assert f"{config} in grey (1 of" in out.read_text()
    assert all(float(cell) > 10 for cell in grey_row.split("|")[2:-1])  # scored, not skipped
    views = ["--noise", "camera", "--ensemble", "1,0+7"]
    assert heldout_main([str(grey), "--config", str(config), "--grey", *views, "--out", str(out)]) == 0
    rows = [line.split(" |")[0] for line in out.read_text().splitlines() if line.startswith(f"| {grey}")]
    assert rows == [f"| {grey}, 1 view", f"| {grey}, views 0+7"]
    if native_bfloat16(torch.device("cpu")):  # one row per precision, each named
        precisions = ["--precision", "float32,bfloat16", "--out", str(out)]
        assert heldout_main([str(grey), "--config", str(config), "--grey", *precisions]) == 0
        rows = [line.split(" |")[0] for line in out.read_text().splitlines() if line.startswith(f"| {grey}")]
        assert rows == [f"| {grey}, float32", f"| {grey}, bfloat16"]
    assert heldout_main([str(grey), "--config", str(config), "--grey", "--precision", "half"]) == 2
    raw = random_checkpoint(tmp_path / "raw.pt", channels=4)
    assert heldout_main([str(raw), "--config", str(config), "--noise", "raw", "--out", str(out)]) == 0
    table = out.read_text()
    assert "seeded synthetic raw" in table and f"{tmp_path / 'setA'} ISO 6400 rendered |" in table
    raw_row = next(line for line in table.splitlines() if line.startswith(f"| {raw}"))
    views = ["--ensemble", "1,0+5", "--out", str(out)]
    assert heldout_main([str(raw), "--config", str(config), "--noise", "raw", *views]) == 0
    rows = [line.split(" |")[0] for line in out.read_text().splitlines() if line.startswith(f"| {raw}")]
    assert rows == [f"| {raw}, 1 view", f"| {raw}, views 0+5"]
    assert len(raw_row.split("|")) == 2 + 2 * 3 * 2 + 2  # two sets, three ISOs, linear and rendered, the mean
