"""The device kit: training data packed without a changed pixel, and a repository lightened for one call."""

import subprocess

import cv2
import numpy as np
import pytest
import yaml

from denoise.data.datamodule import DenoiseDataModule
from denoise.data.images import read_uint8
from denoise.data.validation import central_crop
from denoise_lab.device_kit import HEAVY, KitError, light, main, pack_data, pack_image, restore, travel_mib
from tests.helpers import photo


def _png(path, height=40, width=56, seed=0):
    image = (photo(height, width) * 255).astype(np.uint8)
    image = np.roll(image, seed, axis=1)  # distinct images
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)
    return path


def test_a_png_becomes_a_lossless_webp_a_jpeg_is_copied_and_a_crop_is_the_validation_crop(tmp_path):
    source = _png(tmp_path / "in" / "a.png")
    packed = pack_image(source, tmp_path / "out")
    assert packed.name == "a.webp"
    np.testing.assert_array_equal(read_uint8(packed), read_uint8(source))
    jpeg = tmp_path / "in" / "b.jpg"
    cv2.imwrite(str(jpeg), cv2.imread(str(source)), [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert pack_image(jpeg, tmp_path / "out").read_bytes() == jpeg.read_bytes()  # already compressed: as it is
    cropped = pack_image(jpeg, tmp_path / "held", crop=16)
    np.testing.assert_array_equal(read_uint8(cropped), central_crop(read_uint8(jpeg), 16))


def test_packed_sets_split_and_validate_as_the_originals(tmp_path, monkeypatch):
    for index in range(4):
        _png(tmp_path / "src" / "train" / "CBSD432" / f"img{index}.png", seed=index)
    config = tmp_path / "data.yaml"
    config.write_text(yaml.safe_dump({"data": {"train_sets": ["CBSD432"], "holdout": {"CBSD432": 1}, "val_crop": 24}}))
    monkeypatch.setenv("DENOISE_DATA_DIR", str(tmp_path / "src"))
    written = pack_data(config, tmp_path / "kit")
    assert sorted(path.stem for path in written) == ["img0", "img1", "img2", "img3"]

    def split(root):
        monkeypatch.setenv("DENOISE_DATA_DIR", str(root))
        module = DenoiseDataModule(train_sets=["CBSD432"], holdout={"CBSD432": 1}, val_crop=24)
        return module.split_training_images()

    (train_src, held_src), (train_kit, held_kit) = split(tmp_path / "src"), split(tmp_path / "kit")
    assert [p.stem for p in train_kit] == [p.stem for p in train_src] and [p.stem for p in held_kit] == ["img3"]
    for original, packed in zip(train_src, train_kit, strict=True):  # the training images whole
        np.testing.assert_array_equal(read_uint8(packed), read_uint8(original))
    np.testing.assert_array_equal(read_uint8(held_kit[0]), central_crop(read_uint8(held_src[0]), 24))


def _repo(root):
    def git(*args):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    for name, size in [
        ("checkpoints/a.pt", 300_000),
        ("results/r.md", 100_000),
        ("docs/d.md", 50),
        ("denoise/x.py", 10),
    ]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x" * size)
    git("add", ".")
    git("commit", "-q", "-m", "start")
    return git


def _tracked(root):
    return subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split()


def test_light_keeps_the_heavy_folders_from_travelling_and_restore_brings_them_back(tmp_path):
    _repo(tmp_path)
    before = travel_mib(tmp_path, [])
    light(tmp_path)
    assert _tracked(tmp_path) == ["denoise/x.py"] and travel_mib(tmp_path, []) < before / 10
    assert (tmp_path / "checkpoints" / "a.pt").stat().st_size == 300_000  # untouched on disk
    assert travel_mib(tmp_path, ["checkpoints/a.pt"]) == pytest.approx(travel_mib(tmp_path, []) + 300_000 / 2**20)
    light(tmp_path)  # twice is harmless
    restore(tmp_path)
    assert sorted(_tracked(tmp_path)) == ["checkpoints/a.pt", "denoise/x.py", "docs/d.md", "results/r.md"]
    assert travel_mib(tmp_path, []) == pytest.approx(before)
    exclude = (tmp_path / ".git" / "info" / "exclude").read_text()
    assert not any(f"/{name}/" in exclude for name in HEAVY)
    assert subprocess.run(["git", "status", "--porcelain"], cwd=tmp_path, capture_output=True, text=True).stdout == ""


def test_light_refuses_while_a_heavy_folder_has_changes(tmp_path, monkeypatch, capsys):
    _repo(tmp_path)
    (tmp_path / "results" / "r.md").write_text("changed")
    with pytest.raises(KitError, match="commit or stash"):
        light(tmp_path)
    assert "results/r.md" in _tracked(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["light"]) == 2 and "commit or stash" in capsys.readouterr().err
