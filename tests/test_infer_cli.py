"""``python -m denoise.infer``: outputs, never touching inputs, progress/summary, and every bad input."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from denoise import Denoiser
from denoise.infer import main
from denoise.io import ImageData, read_image, write_image
from tests.helpers import photo, random_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return random_checkpoint(tmp_path_factory.mktemp("ckpt") / "random.pt")


@pytest.fixture
def image_file(tmp_path):
    path = tmp_path / "in" / "photo.png"
    write_image(path, ImageData(np.round(photo(60, 80) * 255).astype(np.uint8)))
    return path


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.err


def test_default_output_beside_the_input_equals_the_api(image_file, checkpoint, capsys):
    before = image_file.read_bytes()
    code, err = _run([image_file, "--sigma", 0.1, "--checkpoint", checkpoint], capsys)
    assert code == 0
    output = image_file.with_name("photo_denoised.png")
    assert "denoised 1 image(s), 0.00 MP" in err
    assert image_file.read_bytes() == before  # input untouched
    source = read_image(image_file)
    expected = source.with_pixels_from_float(Denoiser.from_checkpoint(str(checkpoint))(source.to_float(), 0.1))
    assert np.array_equal(read_image(output).pixels, expected.pixels)


@pytest.mark.parametrize("option, views", [(["--ensemble", "2"], 2), (["--ensemble"], 8)])
def test_ensemble_option_takes_a_view_count(image_file, checkpoint, tmp_path, capsys, option, views):
    code, _ = _run([image_file, "--sigma", 0.1, "--checkpoint", checkpoint, "-o", tmp_path / "e.png", *option], capsys)
    assert code == 0
    source = read_image(image_file)
    api = Denoiser.from_checkpoint(str(checkpoint))(source.to_float(), 0.1, ensemble=views)
    assert np.array_equal(read_image(tmp_path / "e.png").pixels, source.with_pixels_from_float(api).pixels)
    with pytest.raises(SystemExit) as stop:
        main([str(image_file), "--sigma", "0.1", "--ensemble", "3"])
    assert stop.value.code == 2 and "invalid choice: 3" in capsys.readouterr().err


def test_output_file_folder_glob_and_folder_inputs(tmp_path, image_file, checkpoint, capsys):
    second = image_file.with_name("second.jpg")
    write_image(second, read_image(image_file))
    code, _ = _run([image_file, "--sigma", 0.05, "--checkpoint", checkpoint, "-o", tmp_path / "one.tif"], capsys)
    assert code == 0 and read_image(tmp_path / "one.tif").pixels.shape == (60, 80, 3)
    code, _ = _run([image_file.parent, "--sigma", 0.05, "--checkpoint", checkpoint, "-o", tmp_path / "out"], capsys)
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["photo_denoised.png", "second_denoised.jpg"]
    code, _ = _run(
        [str(image_file.parent / "*.jpg"), "--sigma", 0.05, "--method", "bilateral", "-o", tmp_path / "g"], capsys
    )
    assert code == 0 and [p.name for p in (tmp_path / "g").iterdir()] == ["second_denoised.jpg"]


def test_a_pattern_after_a_folder_is_matched_inside_it(tmp_path, image_file, monkeypatch, capsys):
    write_image(image_file.with_name("shot.tif"), read_image(image_file))
    write_image(tmp_path / "elsewhere.tif", read_image(image_file))  # in the working folder: not selected
    monkeypatch.chdir(tmp_path)
    code, _ = _run([image_file.parent, "*.tif", "--sigma", 0.05, "--method", "bilateral", "-o", "out"], capsys)
    assert code == 0 and [p.name for p in (tmp_path / "out").iterdir()] == ["shot_denoised.tif"]
    code, err = _run([image_file.parent, "*.webp", "--sigma", 0.05, "--method", "bilateral", "-o", "o2"], capsys)
    assert code == 2 and "in/*.webp: no file matches" in err


def test_strength_and_eight_bit_sigma(tmp_path, image_file, capsys):
    args = ["--method", "bilateral", "--quiet"]
    code, err = _run([image_file, "--sigma", 0.6, "--strength", 2, "-o", tmp_path / "s.png", *args], capsys)
    assert code == 0, err  # 0.6 x 2 is the strongest level, 1, not a mistaken /255 value
    code, _ = _run([image_file, "--sigma255", 25.5, "-o", tmp_path / "a.png", *args], capsys)
    code_b, _ = _run([image_file, "--sigma", 0.1, "-o", tmp_path / "b.png", *args], capsys)
    assert code == code_b == 0
    np.testing.assert_array_equal(read_image(tmp_path / "a.png").pixels, read_image(tmp_path / "b.png").pixels)


def test_existing_output_is_kept_unless_overwrite(image_file, capsys):
    output = image_file.with_name("photo_denoised.png")
    output.write_bytes(b"keep me")
    code, err = _run([image_file, "--sigma", 0.1, "--method", "bilateral"], capsys)
    assert code == 0 and output.read_bytes() == b"keep me" and "use --overwrite" in err
    code, _ = _run([image_file, "--sigma", 0.1, "--method", "bilateral", "--overwrite"], capsys)
    assert code == 0 and read_image(output).pixels.shape == (60, 80, 3)


def test_never_writes_over_an_input(image_file, capsys):
    before = image_file.read_bytes()
    code, err = _run([image_file, "--sigma", 0.1, "--method", "bilateral", "-o", image_file, "--overwrite"], capsys)
    assert code == 2 and "would overwrite an input" in err
    assert image_file.read_bytes() == before


def test_16_bit_alpha_grey_are_kept_through_the_cli(tmp_path, capsys):
    rng = np.random.default_rng(0)
    write_image(
        tmp_path / "deep.png",
        ImageData(
            rng.integers(0, 65536, (40, 50, 3), dtype=np.uint16), rng.integers(0, 65536, (40, 50), dtype=np.uint16)
        ),
    )
    write_image(tmp_path / "grey.png", ImageData(rng.integers(0, 256, (40, 50), dtype=np.uint8)))
    code, _ = _run([tmp_path / "deep.png", tmp_path / "grey.png", "--sigma", 0.1, "--method", "bilateral"], capsys)
    assert code == 0
    deep = read_image(tmp_path / "deep_denoised.png")
    assert deep.pixels.dtype == np.uint16 and np.array_equal(deep.alpha, read_image(tmp_path / "deep.png").alpha)
    assert read_image(tmp_path / "grey_denoised.png").pixels.shape == (40, 50)


def test_partial_batch_failure_exits_1_and_writes_the_rest(tmp_path, image_file, capsys):
    (image_file.parent / "broken.png").write_bytes(b"not an image at all")
    code, err = _run([image_file.parent, "--sigma", 0.1, "--method", "bilateral"], capsys)
    assert code == 1
    assert image_file.with_name("photo_denoised.png").exists()
    assert "broken.png: not an image file" in err and "1 failed" in err


def _zero_pixel_png(path):
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 0, 0, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )


def _write(path, content):
    """Create ``path`` with ``content`` (text or bytes) and return it."""
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


BAD_INPUTS = {
    "missing": (lambda d: d / "nothing.png", [], "no such file or folder"),
    "empty_folder": (lambda d: (d / "empty").mkdir() or d / "empty", [], "folder holds no images"),
    "not_an_image": (lambda d: _write(d / "x.png", "hello"), [], "not an image file"),
    "empty_file": (lambda d: _write(d / "e.png", b""), [], "the file is empty"),
    "truncated": (
        lambda d: _write(d / "t.png", (d / "in" / "photo.png").read_bytes()[:200]),
        [],
        "corrupt or truncated",
    ),
    "zero_pixels": (lambda d: _zero_pixel_png(d / "z.png") or d / "z.png", [], "z.png: the image has no pixels"),
    "unknown_output_format": (lambda d: d / "in" / "photo.png", ["-o", "{d}/out.gif"], r"\.gif is not a supported"),
    "sigma_negative": (lambda d: d / "in" / "photo.png", ["--sigma", "-0.1"], "sigma must be a number >= 0"),
    "sigma_nan": (lambda d: d / "in" / "photo.png", ["--sigma", "nan"], "sigma must be a number >= 0"),
    "sigma_255_scale": (lambda d: d / "in" / "photo.png", ["--sigma", "25"], "divide|for 25/255 use 0.0980"),
    "missing_checkpoint": (lambda d: d / "in" / "photo.png", ["--checkpoint", "nope.pt"], "nope.pt does not exist"),
    "corrupt_checkpoint": (
        lambda d: _write(d / "bad.pt", b"xx") and d / "in" / "photo.png",
        ["--checkpoint", "{d}/bad.pt"],
        "corrupt or not a torch file",
    ),
    "unwritable_output": (
        lambda d: _write(d / "file", "x") and d / "in" / "photo.png",
        ["-o", "{d}/file/sub"],
        "cannot write",
    ),
    "bad_tile": (lambda d: d / "in" / "photo.png", ["--tile", "100", "--method", "bilateral"], "multiple of 32"),
    "bad_threads": (lambda d: d / "in" / "photo.png", ["--threads", "0", "--method", "bilateral"], "--threads"),
    "precision_of_a_classical_method": (
        lambda d: d / "in" / "photo.png",
        ["--precision", "bfloat16"],
        "--precision bfloat16 is for the torch networks, not for bilateral",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_one_line_exit_2(case, tmp_path, image_file, capsys, monkeypatch):
    monkeypatch.setenv("DENOISE_CHECKPOINTS", str(tmp_path / "no_checkpoints_here"))
    make_input, extra, message = BAD_INPUTS[case]
    target = make_input(tmp_path)
    extra = [item.replace("{d}", str(tmp_path)) for item in extra]
    if "--sigma" not in extra:
        extra += ["--sigma", "0.1"]
    if "--checkpoint" not in extra and "--method" not in extra:
        extra += ["--method", "bilateral"]
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    code, err = _run([target, *extra], capsys)
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err
    assert __import__("re").search(message, lines[0]), lines[0]
    assert all(p.read_bytes() == content for p, content in before.items())  # inputs never modified


def test_no_shipped_model_says_what_to_do(image_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DENOISE_CHECKPOINTS", str(tmp_path / "none"))
    code, err = _run([image_file, "--sigma", 0.1], capsys)
    assert code == 2 and "no trained checkpoint ships" in err and "--method bilateral" in err


def test_palette_and_cmyk_inputs_are_converted(tmp_path, capsys):
    rgb = np.round(photo(30, 40) * 255).astype(np.uint8)
    Image.fromarray(rgb).convert("P").save(tmp_path / "p.png")
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "c.jpg")
    code, _ = _run([tmp_path / "p.png", tmp_path / "c.jpg", "--sigma", 0.1, "--method", "bilateral"], capsys)
    assert code == 0 and read_image(tmp_path / "p_denoised.png").pixels.shape == (30, 40, 3)


def test_real_process_prints_no_traceback(tmp_path):
    (tmp_path / "x.png").write_text("not an image")
    result = subprocess.run(
        [sys.executable, "-m", "denoise.infer", str(tmp_path / "x.png"), "--sigma", "0.1", "--method", "bilateral"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error:") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
