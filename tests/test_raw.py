"""Camera raw: packing is exact for every Bayer phase, the noise profile is found, and a DNG goes in and out.

The DNGs are written here by the project's writer and read back by LibRaw (rawpy) and tifffile, two readers
that know nothing of it.
"""

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import rawpy
import tifffile
import torch
import torch.nn.functional as F

from denoise.checkpoint import save_checkpoint
from denoise.data.noise import TRAINING_NOISES
from denoise.data.raw_synthesis import seeded_synthetic_raw
from denoise.infer import main
from denoise.models import create_model
from denoise.precision import native_bfloat16
from denoise.raw.cfa import BAYER_PATTERNS, UnsupportedSensorError, pack, red_phase, unpack
from denoise.raw.dng import CFA, LINEAR_RAW, RawImage, dng_tags, write_dng
from denoise.raw.noise_profile import NoiseProfile, estimate_profile, profile_from_iso, sigma_map
from tests.helpers import photo

SHAPES = [(2, 2), (3, 5), (31, 46), (64, 64)]


@pytest.mark.parametrize("pattern", BAYER_PATTERNS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("multiple", [1, 16])
def test_pack_then_unpack_is_the_identity(pattern, shape, multiple):
    mosaic = np.random.default_rng(0).integers(0, 65535, size=shape, dtype=np.uint16)
    planes, packing = pack(mosaic, pattern, multiple)
    assert planes.shape[0] == 4 and planes.shape[1] % multiple == 0 and planes.shape[2] % multiple == 0
    np.testing.assert_array_equal(unpack(planes, packing), mosaic)


@pytest.mark.parametrize("pattern", BAYER_PATTERNS)
def test_every_phase_packs_to_rggb(pattern):
    """Mosaic an RGB image with ``pattern``: each packed plane holds only its own colour, mirrored border too."""
    height, width = 9, 12
    rgb = np.stack([np.full((height, width), 1.0), np.full((height, width), 2.0), np.full((height, width), 3.0)])
    colour = {"R": 0, "G": 1, "B": 2}
    mosaic = np.empty((height, width))
    for index, letter in enumerate(pattern):
        mosaic[index // 2 :: 2, index % 2 :: 2] = rgb[colour[letter], index // 2 :: 2, index % 2 :: 2]
    planes, _ = pack(mosaic, pattern, multiple=4)
    assert [set(np.unique(plane)) for plane in planes] == [{1.0}, {2.0}, {2.0}, {3.0}]


@pytest.mark.parametrize("pattern", ["RGBG", "XTRANS", "RRGB"])
def test_non_bayer_patterns_are_refused(pattern):
    with pytest.raises(UnsupportedSensorError, match="Bayer"):
        red_phase(pattern)


@pytest.mark.parametrize("iso", [400, 6400, 25600])
def test_the_noise_profile_is_estimated_from_the_mosaic(iso):
    rows, cols = np.mgrid[0:600, 0:800]
    scene = 0.05 + 0.8 * (cols / 800) * (0.5 + 0.5 * np.sin(rows / 70.0))
    truth = profile_from_iso(iso)
    noisy = scene + np.random.default_rng(iso).standard_normal(scene.shape) * truth.sigma(scene)
    found = estimate_profile(pack(noisy, "GRBG")[0])
    assert found.shot == pytest.approx(truth.shot, rel=0.1)
    level = 0.3  # the noise at a mid level, where read and shot noise both count
    assert found.sigma(np.array(level)) == pytest.approx(truth.sigma(np.array(level)), rel=0.05)


def test_the_noise_map_is_sigma_of_the_5x5_mean_level():
    planes = torch.from_numpy(photo(24, 40)).permute(2, 0, 1)[None, [0, 1, 1, 2]].contiguous()  # (1, 4, H, W)
    shot, read = torch.tensor([2e-3]), torch.tensor([1e-5])
    level = F.avg_pool2d(F.pad(planes, (2, 2, 2, 2), mode="replicate"), 5, stride=1)  # the direct definition
    torch.testing.assert_close(sigma_map(planes, shot, read), (2e-3 * level + 1e-5).sqrt(), rtol=1e-5, atol=1e-7)


def test_iso_model_spans_the_stated_range():
    low, high = profile_from_iso(100), profile_from_iso(25600)
    assert high.shot / low.shot == pytest.approx(256) and high.read > low.read > 0
    with pytest.raises(ValueError, match="ISO"):
        profile_from_iso(0)


def write_synthetic_dng(path, pattern="RGGB", shape=(45, 62), black=512, white=4095, profile=None, seed=0):
    """A Bayer DNG with a smooth scene plus noise, every tag a raw editor needs."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    scene = 0.2 + 0.5 * (cols / shape[1]) * (0.6 + 0.4 * np.cos(rows / 9.0))
    noisy = scene + np.random.default_rng(seed).standard_normal(shape) * 0.02
    mosaic = np.clip(np.round(black + noisy * (white - black)), 0, 65535).astype(np.uint16)
    matrix = np.array([[0.9, -0.3, -0.1], [-0.4, 1.2, 0.2], [-0.1, 0.2, 0.6]])
    neutral = np.array([0.5, 1.0, 0.6])
    tags = dng_tags(pattern, np.full(4, black), white, neutral, matrix, 6, profile, 800, "Test Cam", "Test", "Cam 1")
    image = RawImage(mosaic, (0, 0, *shape), pattern, np.full((2, 2), float(black)), white, profile, 800, tags)
    write_dng(path, image, mosaic)
    return mosaic


@pytest.fixture(scope="module")
def raw_model_file(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("rawmodel") / "raw.pt"
    save_checkpoint(path, create_model("unet", channels=4, widths=(8, 16)))
    return path


@pytest.fixture(scope="module")
def identity_model_file(tmp_path_factory):
    """A raw model whose noise estimate is zero: it returns its input, so the pipeline must be exact."""
    torch.manual_seed(0)
    model = create_model("unet", channels=4, widths=(8, 16))
    with torch.no_grad():
        model.last_layer.weight.zero_()
        model.last_layer.bias.zero_()
    path = tmp_path_factory.mktemp("identity") / "identity.pt"
    save_checkpoint(path, model)
    return path


def _tags(path):
    with tifffile.TiffFile(path) as tiff:
        return {tag.code: tag.value for tag in tiff.pages[0].tags.values()}


@pytest.mark.parametrize("pattern", BAYER_PATTERNS)
@pytest.mark.parametrize("shape", [(45, 62), (33, 51)])
def test_a_dng_goes_in_and_a_dng_of_the_same_layout_comes_out(pattern, shape, tmp_path, raw_model_file, capsys):
    source, target = tmp_path / "shot.dng", tmp_path / "shot_denoised.dng"
    profile = NoiseProfile(4e-4, 1e-6)
    mosaic = write_synthetic_dng(source, pattern, shape, profile=profile)
    before = source.read_bytes()
    assert main([str(source), "--checkpoint", str(raw_model_file)]) == 0
    assert "noise from the file's NoiseProfile tag" in capsys.readouterr().err
    assert source.read_bytes() == before  # the input is untouched
    original, written = _tags(source), _tags(target)
    changed = {code for code in original.keys() | written.keys() if original.get(code) != written.get(code)}
    assert changed <= {273, 279, 305}  # only where the strip lies and the software that wrote it
    with rawpy.imread(str(source)) as a, rawpy.imread(str(target)) as b:
        assert b.raw_image.shape == mosaic.shape and b.raw_image.dtype == np.uint16
        np.testing.assert_array_equal(a.raw_pattern, b.raw_pattern)
        assert a.black_level_per_channel == b.black_level_per_channel and a.white_level == b.white_level
        assert a.sizes.flip == b.sizes.flip == 6
        np.testing.assert_allclose(a.color_matrix, b.color_matrix)
        assert not np.array_equal(a.raw_image, b.raw_image)  # it was denoised


@pytest.mark.parametrize("pattern", BAYER_PATTERNS)
def test_a_model_that_removes_nothing_gives_back_the_mosaic_exactly(pattern, tmp_path, identity_model_file):
    source, target = tmp_path / "in.dng", tmp_path / "out.dng"
    mosaic = write_synthetic_dng(source, pattern, (37, 50), profile=NoiseProfile(4e-4, 1e-6))
    assert main([str(source), "-o", str(target), "--checkpoint", str(identity_model_file), "-q"]) == 0
    with rawpy.imread(str(target)) as raw:
        np.testing.assert_array_equal(raw.raw_image, mosaic)


def test_without_a_profile_the_noise_is_estimated_or_taken_from_iso(tmp_path, raw_model_file, capsys):
    tiny = tmp_path / "tiny.dng"
    write_synthetic_dng(tiny, shape=(40, 50))
    assert main([str(tiny), "--checkpoint", str(raw_model_file)]) == 2
    err = capsys.readouterr().err
    assert "too small to estimate its noise" in err and "--iso" in err
    source = tmp_path / "plain.dng"
    write_synthetic_dng(source, shape=(260, 300))
    assert main([str(source), "--checkpoint", str(raw_model_file)]) == 0
    assert "estimated from the mosaic" in capsys.readouterr().err
    assert (
        main([str(source), "-o", str(tmp_path / "iso.dng"), "--iso", "3200", "--checkpoint", str(raw_model_file)]) == 0
    )
    assert "ISO 3200" in capsys.readouterr().err


def _write_linear_dng(path):
    tags = [(50706, "B", 4, (1, 4, 0, 0), True), (50717, "I", 1, 4095, True)]
    tifffile.imwrite(path, np.zeros((8, 8, 3), np.uint16), photometric=LINEAR_RAW, extratags=tags, metadata=None)


def _write_xtrans_dng(path):
    pattern = (1, 1, 0, 1, 1, 2, 1, 1, 2, 1, 1, 0, 2, 0, 1, 0, 2, 1) * 2
    tags = [(50706, "B", 4, (1, 4, 0, 0), True), (33421, "H", 2, (6, 6), True), (33422, "B", 36, pattern, True),
            (50710, "B", 3, (0, 1, 2), True), (50717, "I", 1, 4095, True)]  # fmt: skip
    tifffile.imwrite(path, np.full((36, 36), 800, np.uint16), photometric=CFA, extratags=tags, metadata=None)


def _truncated(path, tmp_path):
    whole = tmp_path / "whole.dng"
    write_synthetic_dng(whole, shape=(200, 240))
    path.write_bytes(whole.read_bytes()[:4000])


BAD_RAW = {
    "truncated": (_truncated, "truncated or corrupt"),
    "not_raw": (lambda path, tmp: path.write_bytes(b"not a raw file at all" * 20), "not a camera raw file"),
    "xtrans": (lambda path, tmp: _write_xtrans_dng(path), "not a 2 x 2 Bayer pattern"),
    "linear": (lambda path, tmp: _write_linear_dng(path), "linear"),
}


@pytest.mark.parametrize("case", sorted(BAD_RAW))
def test_bad_raw_inputs_get_one_line_and_exit_2(case, tmp_path, raw_model_file, capfd):
    path = tmp_path / f"{case}.dng"
    make, message = BAD_RAW[case]
    make(path, tmp_path)
    assert main([str(path), "--checkpoint", str(raw_model_file)]) == 2
    err = capfd.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err
    assert not (tmp_path / f"{case}_denoised.dng").exists()


@pytest.mark.parametrize("option", [["--sigma", "0.1"], ["-o", "out.png"]])
def test_raw_refuses_options_of_images(option, tmp_path, raw_model_file, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_synthetic_dng(tmp_path / "shot.dng")
    assert main(["shot.dng", "--checkpoint", str(raw_model_file), *option]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_raw_training_noise_and_its_seeded_benchmark():
    clean = torch.from_numpy(photo(64, 64)).permute(2, 0, 1)[None]
    noisy, sigma, target, render = TRAINING_NOISES.get("raw")(clean.repeat(2, 1, 1, 1), 0.0, 0.3)
    assert noisy.shape == sigma.shape == target.shape == (2, 4, 32, 32)
    rendered = render(target)  # each patch through its own camera's rendering, back to the sRGB it came from
    assert rendered.shape == (2, 3, 64, 64) and 0 <= rendered.min() and rendered.max() <= 1
    assert (rendered - clean).abs().mean() < 0.03  # bilinear demosaicking loses a little of the finest detail
    assert (sigma > 0).all() and not torch.equal(noisy, target)
    first, again = seeded_synthetic_raw(clean, 1600, 7), seeded_synthetic_raw(clean, 1600, 7)
    assert torch.equal(first.noisy, again.noisy) and torch.equal(first.clean, again.clean)
    residual = (first.noisy - first.clean) / first.sigma
    assert residual.std().item() == pytest.approx(1.0, abs=0.1)  # the map is the noise's std


def test_the_raw_leaderboard_ranks_ours_against_pmrid(tmp_path, monkeypatch):
    """The benchmark runs every method on seeded synthetic raw and reports both PSNRs and the time per MP."""
    from denoise.baselines.pmrid import PMRID
    from denoise.io import ImageData, write_image
    from denoise_lab.leaderboard.raw import main as raw_main
    from tests.helpers import random_checkpoint

    folder = tmp_path / "set"
    write_image(folder / "a.png", ImageData(np.round(photo(64, 64) * 255).astype(np.uint8)))
    shipped = tmp_path / "checkpoints"
    random_checkpoint(shipped / "denoise-colour.pt", channels=3)
    random_checkpoint(shipped / "denoise-raw.pt", channels=4, widths=(8, 16))
    monkeypatch.setenv("DENOISE_CHECKPOINTS", str(shipped))
    torch.manual_seed(0)
    weights = tmp_path / "pmrid.ckp"
    torch.save(PMRID().state_dict(), weights)
    out = tmp_path / "raw.md"
    args = [
        "--datasets",
        str(folder),
        "--isos",
        "1600,6400",
        "--crop",
        "64",
        "--pmrid",
        str(weights),
        "--out",
        str(out),
    ]
    names = ("PMRID", "ours (denoise-raw)", "ours (denoise-raw) single view", "PMRID with our 2 views")
    assert raw_main([*args, "--methods", ",".join(names)]) == 0
    table = out.read_text()
    assert "| ISO 1600 | ISO 6400 | s / MP | GMACs / MP |" in table
    names += ("noisy", "ours (sRGB blind) after rendering")
    for name in names:
        assert f"| {name} |" in table
    work = {line.split(" | ")[0][2:]: line.split(" | ")[-1].rstrip(" |") for line in table.splitlines()}
    assert work["noisy"] == "-" and float(work["PMRID"]) > float(work["ours (denoise-raw)"]) > 0  # a tiny ours here
    rows = list(csv.DictReader(out.with_suffix(".csv").open()))
    assert len(rows) == 2 * len(names) and {row["crop"] for row in rows} == {"64"}
    by_method = {name: [float(row["raw_psnr"]) for row in rows if row["method"] == name] for name in names}
    assert by_method["ours (denoise-raw)"] != by_method["ours (denoise-raw) single view"]  # two views averaged
    assert by_method["PMRID with our 2 views"] != by_method["PMRID"]
    noisy = [float(row["raw_psnr"]) for row in rows if row["method"] == "noisy"]
    assert noisy[0] > noisy[1]  # more noise at the higher ISO
    assert raw_main([*args, "--methods", "PMRID", "--merge"]) == 0  # ours kept from the earlier run
    assert {row["method"] for row in csv.DictReader(out.with_suffix(".csv").open())} >= {"ours (denoise-raw)"}
    table = out.read_text()
    kept = "ours (denoise-raw), ours (denoise-raw) single view, PMRID with our 2 views"
    assert f"Kept from an earlier run with the same settings (`--merge`), and timed there: {kept}." in table
    assert "--methods PMRID --merge" in table
    # a raw checkpoint that does not ship: its two rows, named by its file, beside the shipped model's
    candidate = random_checkpoint(tmp_path / "narrow.pt", channels=4, widths=(4, 16))
    rows = ("narrow.pt", "narrow.pt single view")
    assert raw_main([*args, "--candidate", str(candidate), "--methods", ",".join(rows)]) == 0
    gmacs = {line.split(" | ")[0][2:]: line.split(" | ")[-1].rstrip(" |") for line in out.read_text().splitlines()}
    assert 0 < float(gmacs["narrow.pt single view"]) < float(gmacs["narrow.pt"])
    colour = random_checkpoint(tmp_path / "colour.pt", channels=3)
    assert raw_main([*args, "--candidate", str(colour)]) == 2  # not a raw model: one line, no table


@pytest.mark.parametrize("iso", [400, 6400, 25600])
def test_the_peers_transforms_invert_exactly(iso):
    """The Anscombe transform and PMRID's k-sigma transform each have an exact inverse; the Anscombe's
    unbiased inverse gives back the mean level of noisy pixels from the mean of their transforms."""
    from denoise.baselines.pmrid import k_sigma
    from denoise.baselines.vst import anscombe, inverse_anscombe, unbiased_inverse_anscombe

    profile = profile_from_iso(iso)
    values = np.linspace(0.0, 1.0, 101)
    np.testing.assert_allclose(
        inverse_anscombe(anscombe(values, profile.shot, profile.read), profile.shot, profile.read), values, atol=1e-12
    )
    planes = torch.rand(1, 4, 8, 8, dtype=torch.float64)
    back = k_sigma(k_sigma(planes, profile.shot, profile.read), profile.shot, profile.read, inverse=True)
    torch.testing.assert_close(back, planes)
    level = 0.05
    noisy = level + np.random.default_rng(iso).standard_normal(400000) * profile.sigma(np.array(level))
    mean_stabilised = anscombe(noisy, profile.shot, profile.read).mean()
    unbiased = unbiased_inverse_anscombe(np.array(mean_stabilised), profile.shot, profile.read)
    assert unbiased == pytest.approx(level, rel=0.02)


def test_the_python_api_denoises_a_raw_file_with_the_shipped_raw_model(tmp_path, monkeypatch, raw_model_file):
    from denoise.raw.pipeline import denoise_raw_file

    shipped = tmp_path / "checkpoints"
    shipped.mkdir()
    (shipped / "denoise-raw.pt").write_bytes(raw_model_file.read_bytes())
    monkeypatch.setenv("DENOISE_CHECKPOINTS", str(shipped))
    source, target = tmp_path / "shot.dng", tmp_path / "out.dng"
    mosaic = write_synthetic_dng(source, "GBRG", (41, 60), profile=NoiseProfile(4e-4, 1e-6))
    used = []
    assert denoise_raw_file(source, target, strength=0.5, on_profile=used.append) == pytest.approx(41 * 60 / 1e6)
    assert used[0].source == "the file's NoiseProfile tag"
    with rawpy.imread(str(target)) as raw:
        assert raw.raw_image.shape == mosaic.shape


def test_levels_normalise_and_back_exactly_and_leave_the_masked_border():
    rng = np.random.default_rng(1)
    mosaic = rng.integers(400, 4000, size=(30, 41), dtype=np.uint16)
    black = np.array([[500.0, 510.0], [505.0, 520.0]])
    image = RawImage(mosaic, (2, 4, 25, 33), "BGGR", black, 4095.0)
    values = image.normalised()
    assert values.shape == (25, 33) and values[0, 0] == pytest.approx((mosaic[2, 4] - 500) / (4095 - 500))
    np.testing.assert_array_equal(image.with_normalised(values), mosaic)
    changed = image.with_normalised(np.zeros_like(values))
    assert (changed[2:27, 4:37][0::2, 0::2] == 500).all() and (changed[2:27, 4:37][1::2, 1::2] == 520).all()
    outside = np.ones(mosaic.shape, bool)
    outside[2:27, 4:37] = False
    np.testing.assert_array_equal(changed[outside], mosaic[outside])


@pytest.fixture
def small_shipped(tmp_path, monkeypatch):
    """Random small colour, blind-free and raw models as the shipped ones (speed and memory only)."""
    from tests.helpers import random_checkpoint

    shipped = tmp_path / "checkpoints"
    random_checkpoint(shipped / "denoise-colour.pt", channels=3, widths=(8, 16))
    random_checkpoint(shipped / "denoise-raw.pt", channels=4, widths=(8, 16))
    monkeypatch.setenv("DENOISE_CHECKPOINTS", str(shipped))
    return shipped


def test_whole_run_bench_times_raw_and_photo_runs_and_pmrid(tmp_path, small_shipped, monkeypatch):
    from denoise.baselines.pmrid import PMRID
    from denoise_lab import bench_files

    monkeypatch.setattr(bench_files, "SIZES", {1: (64, 96)})
    torch.manual_seed(0)
    weights = tmp_path / "pmrid.ckp"
    torch.save(PMRID().state_dict(), weights)
    out = tmp_path / "bench.md"
    assert bench_files.main(["--sizes", "1", "--pmrid", str(weights), "--out", str(out)]) == 0
    rows = [line for line in out.read_text().splitlines() if line.startswith("| ") and "MP" not in line]
    fast = ["| camera raw DNG -> DNG, --precision bfloat16", "| colour photo, no --sigma, --precision bfloat16"]
    assert [row.split(" | ")[0] for row in rows] == [
        "| camera raw DNG -> DNG (denoise-raw, its default 2 views)",
        "| camera raw DNG -> DNG, --ensemble 1 (denoise-raw, one view)",
        "| colour photo, no --sigma (denoise-real, its default 2 views)",
        "| colour photo, no --sigma, --ensemble 1 (denoise-real, one view)",
        *(fast if native_bfloat16(torch.device("cpu")) else []),
        "| PMRID on the same raw (read and packed; no DNG written)",
    ]
    assert all(float(row.split(" | ")[-1].rstrip(" |")) > 0 for row in rows)  # a peak memory was read


@pytest.mark.skipif(
    not (shutil.which("rawtherapee-cli") or shutil.which("darktable-cli")), reason="no raw editor installed"
)
def test_raw_editors_open_the_written_dng(tmp_path, small_shipped):
    from denoise_lab.raw_editors import main as editors_main

    out = tmp_path / "editors.md"
    assert editors_main(["--size", "256x384", "--out", str(out)]) == 0  # RawTherapee refuses tiny raws
    rows = [line for line in out.read_text().splitlines() if line.startswith("| ") and "editor" not in line]
    assert rows and all("| yes / yes / yes |" in row for row in rows)


def write_image_file(path, pixels):
    from denoise.io import ImageData, write_image

    write_image(path, ImageData(pixels))


def test_a_raw_model_trains_with_make_train_configs_and_validates_in_linear_raw(tmp_path, monkeypatch):
    import skimage.data

    from denoise.checkpoint import load_checkpoint
    from denoise.train import main as train_main

    monkeypatch.chdir(tmp_path)
    for index, image in enumerate([skimage.data.astronaut(), skimage.data.coffee()]):
        write_image_file(tmp_path / "train" / f"{index}.png", image[:160, :200])
        write_image_file(tmp_path / "val" / f"{index}.png", image[200:264, 200:296])
    root = Path(__file__).resolve().parents[1] / "configs"
    data = [f"--data.train_sets=[{tmp_path / 'train'}]", f"--data.val_set={tmp_path / 'val'}"]
    configs = ["--config", str(root / "smoke.yaml"), "--config", str(root / "experiment" / "raw.yaml")]
    args = ["fit", *configs, *data, "--model.net.init_args.widths=[8,16]", "--trainer.max_steps=4",
            "--trainer.val_check_interval=4", "--model.rendered_loss_weight=1.0"]  # fmt: skip
    assert train_main(args) == 0
    model, metadata = load_checkpoint(tmp_path / "runs" / "raw" / "checkpoints" / "best.ckpt")
    assert model.channels == 4 and metadata["noise"] == "raw" and metadata["runs"][-1]["noise"] == "raw"
    assert metadata["runs"][-1]["rendered_loss_weight"] == 1.0  # what the card's reproduce line names
    logged = next((tmp_path / "runs" / "smoke").rglob("metrics.csv")).read_text()
    assert all(f"val/raw_psnr_iso{iso}" in logged for iso in (1600, 6400, 25600))
    assert all(f"val/raw_rendered_psnr_iso{iso}" in logged for iso in (1600, 6400, 25600))
