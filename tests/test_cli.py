"""The ``denoise`` command: subcommands, a photo as the first argument, plug-in commands, clear errors."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from denoise.cli import PRODUCT_COMMANDS, commands, main
from denoise.io import ImageData, read_image, write_image
from tests.helpers import photo


def test_every_product_command_loads_a_main():
    for name, command in PRODUCT_COMMANDS.items():
        assert callable(command.load()), name


def test_usage_lists_the_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("images", "train", "export", "data"))
    assert main([]) == 2  # nothing asked: usage, and a failing status for scripts


def test_an_unknown_command_is_one_line(capsys):
    assert main(["denoize", "x.png"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "neither a command" in err


def test_a_photo_first_is_the_images_command(tmp_path, capsys):
    source = tmp_path / "in.png"
    write_image(source, ImageData(photo(48, 64)))
    assert main([str(source), "--sigma", "0.1", "--quiet"]) == 0
    by_photo = read_image(tmp_path / "in_denoised.png").pixels
    assert main(["images", str(source), "--sigma", "0.1", "-o", str(tmp_path / "b.png"), "--quiet"]) == 0
    np.testing.assert_array_equal(read_image(tmp_path / "b.png").pixels, by_photo)


def test_the_lab_adds_its_commands_through_entry_points():
    registry = commands()
    assert {"leaderboard", "bench"} <= set(registry)
    assert registry.get("leaderboard").target.startswith("denoise_lab.")


def test_the_console_script_is_installed():
    script = shutil.which("denoise", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the denoise console script is not on this interpreter's bin folder (not pip-installed)")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "commands:" in result.stdout


def test_make_help_shows_values_not_variable_names():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(["make", "-s", "help"], cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "data" in result.stdout
    assert "$(" not in result.stdout
