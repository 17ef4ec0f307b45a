"""Generated documentation stays in sync, and the cost profiler counts what it should."""

from pathlib import Path

import pytest
from torch import nn

from denoise_lab.docs import main as docs_main
from denoise_lab.docs import render
from denoise_lab.models_table import configurations
from denoise_lab.profile import count_parameters, gmacs_per_megapixel

ROOT = Path(__file__).resolve().parents[1]


def test_readme_generated_blocks_match_results():
    assert docs_main(["--readme", str(ROOT / "README.md"), "--check"]) == 0


def test_render_replaces_block_body(tmp_path):
    (tmp_path / "numbers.md").write_text("| a | 1 |\n")
    text = "intro\n<!-- generated from numbers.md by `make x` -->\nold\n<!-- end generated -->\noutro\n"
    assert (
        render(text, tmp_path)
        == "intro\n<!-- generated from numbers.md by `make x` -->\n| a | 1 |\n<!-- end generated -->\noutro\n"
    )


def test_render_missing_source_names_it(tmp_path):
    text = "<!-- generated from nothing.md by `make x` -->\n<!-- end generated -->"
    with pytest.raises(FileNotFoundError, match="nothing.md"):
        render(text, tmp_path)


class _OneConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, noisy, sigma):
        return self.conv(noisy)


def test_gmacs_counts_a_known_convolution():
    # a 3x3 conv from 3 to 8 channels costs 3 * 8 * 9 = 216 MACs per pixel; one megapixel is 2**20 pixels
    assert gmacs_per_megapixel(_OneConv(), channels=3, size=64) == pytest.approx(216 * 2**20 / 1e9)
    assert count_parameters(_OneConv()) == 3 * 8 * 9 + 8


def test_configurations_cover_every_model_and_encoding():
    configs = configurations()
    assert {(c["name"], c["encoding"]) for c in configs} == {
        (name, encoding)
        for name in ("unet", "convnext_unet", "blind_unet")
        for encoding in ("space_to_depth", "dct", "haar")
    }
    assert {c.get("downsample") for c in configs if c["name"] == "unet"} == {"maxpool", "strided", "haar"}


def test_the_summary_averages_sigmas_and_says_how_long_training_takes(tmp_path):
    from denoise_lab.summary import render, training_time

    rows = [
        {"method": method, "dataset": "CBSD68", "image": "a.png", "sigma": sigma, "psnr": psnr, "ssim": 0.9,
         "seconds": 1.0, "megapixels": 2.0}
        for method, base in (("denoise-colour", 30.0), ("ffdnet", 31.0))
        for sigma, psnr in ((15.0, base + 3), (25.0, base), (50.0, base - 3))
    ]  # fmt: skip
    rows = [row for row in rows if not (row["method"] == "ffdnet" and row["sigma"] == 50.0)]
    table = render(rows)
    assert "| CBSD68 | 30.00 (0.50 s/MP) | - | - | - |" in table  # FFDNet lacks sigma 50: no mean
    (tmp_path / "train_throughput_cpu.md").write_text(
        "| setting | batch x patch | steps timed per run | steps / s | range | patch MP / s | peak memory |\n"
        "|---|---|---:|---:|---|---:|---:|\n"
        "| NCHW | 16 x 128^2 | 20 | 0.50 | 0.4-0.6 | 0.1 | - |\n"
    )
    config = tmp_path / "long.yaml"
    config.write_text("trainer:\n  max_steps: 36000\n")
    assert "takes about 20 h on 2 CPU cores at the 0.50 steps/s" in training_time(tmp_path, config)
    assert "not been timed yet" in training_time(tmp_path, config)
    gpu_config = tmp_path / "gpu.yaml"
    gpu_config.write_text("model:\n  channels_last: true\ndata:\n  batch_size: 64\n")
    (tmp_path / "train_throughput_gpu.md").write_text(
        "Machine: a host, 16 cores; device NVIDIA H200. Each setting ran 1 time(s).\n\n"
        "| setting | batch x patch | precision | steps timed per run | steps / s | range | patch MP / s "
        "| peak memory |\n|---|---|---|---:|---:|---|---:|---:|\n"
        "| channels_last | 64 x 128^2 | bf16-mixed | 300 | 100.00 | 100-100 | 104.9 | 0.9 GiB |\n"
        "| NCHW | 64 x 128^2 | bf16-mixed | 300 | 50.00 | 50-50 | 52.4 | 0.9 GiB |\n"
    )  # the precision column shifts steps/s right; the config's layout picks the row
    assert "(36000 steps of 64 patches, channels_last) about 6 min on one NVIDIA H200 at the 100 steps/s" in (
        training_time(tmp_path, config, gpu_config)
    )
    gpu_config.write_text("model:\n  channels_last: false\n")
    assert "about 12 min on one NVIDIA H200 at the 50 steps/s" in training_time(tmp_path, config, gpu_config)
