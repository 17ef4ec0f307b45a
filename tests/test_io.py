"""Image I/O: bit depth, grey/RGB/alpha, EXIF orientation, ICC profiles, atomic writes, bad files."""

import io

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms, ImageOps

from denoise.io import ImageData, ImageFileError, apply_orientation, read_image, write_image

SUFFIXES = [".png", ".jpg", ".tif", ".bmp", ".webp"]
LOSSLESS = {".png", ".tif", ".bmp", ".webp"}


@pytest.fixture(scope="module")
def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _smooth(shape, dtype=np.uint8):
    """A smooth gradient image (JPEG-friendly) of the given shape and dtype."""
    height, width = shape[:2]
    ramp = np.add.outer(np.linspace(0, 0.5, height), np.linspace(0, 0.5, width))
    if len(shape) == 3:
        ramp = np.dstack([ramp * (1 - 0.2 * c) for c in range(shape[2])])
    return np.round(ramp * np.iinfo(dtype).max).astype(dtype)


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("shape", [(24, 40), (24, 40, 3)], ids=["grey", "rgb"])
def test_round_trip_8_bit(tmp_path, suffix, shape):
    pixels = _smooth(shape)
    write_image(tmp_path / f"x{suffix}", ImageData(pixels))
    loaded = read_image(tmp_path / f"x{suffix}")
    expected_shape = shape if suffix != ".webp" else (24, 40, 3)  # WebP stores colour only
    assert loaded.pixels.shape == expected_shape and loaded.pixels.dtype == np.uint8
    difference = np.abs(
        loaded.pixels.astype(int) - (pixels if pixels.shape == expected_shape else np.dstack([pixels] * 3)).astype(int)
    )
    assert difference.max() == 0 if suffix in LOSSLESS else difference.mean() < 2


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("shape", [(24, 40), (24, 40, 3)], ids=["grey", "rgb"])
def test_16_bit_is_kept(tmp_path, suffix, shape):
    pixels = np.random.default_rng(0).integers(0, 65536, shape, dtype=np.uint16)
    write_image(tmp_path / f"x{suffix}", ImageData(pixels))
    loaded = read_image(tmp_path / f"x{suffix}")
    assert loaded.pixels.dtype == np.uint16
    assert np.array_equal(loaded.pixels, pixels)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp"])
def test_alpha_passes_through(tmp_path, suffix):
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (16, 20, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (16, 20), dtype=np.uint8)
    write_image(tmp_path / f"x{suffix}", ImageData(pixels, alpha))
    loaded = read_image(tmp_path / f"x{suffix}")
    assert np.array_equal(loaded.alpha, alpha)
    assert np.array_equal(loaded.pixels, pixels)


def test_grey_plus_alpha_stays_grey(tmp_path):
    rng = np.random.default_rng(2)
    grey_alpha = rng.integers(0, 256, (10, 12, 2), dtype=np.uint8)
    Image.fromarray(grey_alpha, "LA").save(tmp_path / "la.png")
    loaded = read_image(tmp_path / "la.png")
    assert loaded.pixels.shape == (10, 12)
    assert np.array_equal(loaded.pixels, grey_alpha[..., 0]) and np.array_equal(loaded.alpha, grey_alpha[..., 1])
    write_image(tmp_path / "out.png", loaded)
    again = read_image(tmp_path / "out.png")
    assert np.array_equal(again.pixels, loaded.pixels) and np.array_equal(again.alpha, loaded.alpha)


def test_16_bit_alpha_is_kept(tmp_path):
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 65536, (8, 8, 3), dtype=np.uint16)
    alpha = rng.integers(0, 65536, (8, 8), dtype=np.uint16)
    write_image(tmp_path / "x.png", ImageData(pixels, alpha))
    loaded = read_image(tmp_path / "x.png")
    assert np.array_equal(loaded.pixels, pixels) and np.array_equal(loaded.alpha, alpha)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(tmp_path, orientation):
    pixels = np.random.default_rng(orientation).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(tmp_path / "o.png", exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "o.png")))
    assert np.array_equal(read_image(tmp_path / "o.png").pixels, expected)
    assert np.array_equal(apply_orientation(pixels, orientation), expected)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif", ".webp"])
def test_icc_profile_is_copied(tmp_path, srgb_profile, suffix):
    write_image(tmp_path / f"x{suffix}", ImageData(_smooth((16, 16, 3)), icc_profile=srgb_profile))
    assert read_image(tmp_path / f"x{suffix}").icc_profile == srgb_profile
    with Image.open(tmp_path / f"x{suffix}") as image:  # readable by other software too
        assert image.info.get("icc_profile") == srgb_profile


def test_icc_profile_on_16_bit_png(tmp_path, srgb_profile):
    pixels = np.random.default_rng(4).integers(0, 65536, (8, 8, 3), dtype=np.uint16)
    write_image(tmp_path / "x.png", ImageData(pixels, icc_profile=srgb_profile))
    loaded = read_image(tmp_path / "x.png")
    assert loaded.icc_profile == srgb_profile and np.array_equal(loaded.pixels, pixels)


def test_palette_and_cmyk_are_converted_to_rgb(tmp_path):
    rgb = _smooth((12, 12, 3))
    Image.fromarray(rgb).convert("P").save(tmp_path / "p.png")
    palette = read_image(tmp_path / "p.png")
    assert palette.pixels.shape == (12, 12, 3)
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "c.jpg")
    cmyk = read_image(tmp_path / "c.jpg")
    assert cmyk.pixels.shape == (12, 12, 3) and np.abs(cmyk.pixels.astype(int) - rgb).mean() < 4


def test_16_bit_to_8_bit_format_is_reduced_with_a_warning(tmp_path, caplog):
    pixels = np.full((4, 4, 3), 65535, np.uint16)
    write_image(tmp_path / "x.jpg", ImageData(pixels, alpha=np.zeros((4, 4), np.uint16)))
    assert read_image(tmp_path / "x.jpg").pixels.dtype == np.uint8
    assert "reduced to 8 bits" in caplog.text and "transparency is dropped" in caplog.text


def test_float_conversion_round_trip():
    for dtype in (np.uint8, np.uint16):
        image = ImageData(np.arange(0, 256, dtype=dtype).reshape(16, 16) * (257 if dtype == np.uint16 else 1))
        assert np.array_equal(image.with_pixels_from_float(image.to_float()).pixels, image.pixels)
    clipped = ImageData(np.zeros((1, 3), np.uint8)).with_pixels_from_float(np.array([[-0.5, 0.5, 1.5]]))
    assert clipped.pixels.tolist() == [[0, 128, 255]]


def test_written_files_get_normal_permissions(tmp_path):
    import os

    write_image(tmp_path / "out.png", ImageData(_smooth((8, 8))))
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "out.png").stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_is_atomic_and_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    write_image(target, ImageData(_smooth((8, 8))))
    before = target.read_bytes()

    def fail(*args, **kwargs):
        raise KeyboardInterrupt  # a run killed in the middle of writing

    monkeypatch.setattr("os.replace", fail)
    with pytest.raises(KeyboardInterrupt):
        write_image(target, ImageData(_smooth((8, 8)) // 2))
    assert target.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.png"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the file is empty"),
        (b"hello, I am text", "not an image file"),
    ],
    ids=["empty", "text"],
)
def test_bad_files(tmp_path, content, message):
    (tmp_path / "bad.png").write_bytes(content)
    with pytest.raises(ImageFileError, match=message):
        read_image(tmp_path / "bad.png")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_truncated_file(tmp_path, suffix):
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(5).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(
        buffer, format={".png": "PNG", ".jpg": "JPEG", ".tif": "TIFF"}[suffix]
    )
    (tmp_path / f"cut{suffix}").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageFileError, match="corrupt or truncated"):
        read_image(tmp_path / f"cut{suffix}")


def test_missing_file_and_unwritable_folder(tmp_path):
    with pytest.raises(ImageFileError, match="no such file"):
        read_image(tmp_path / "nothing.png")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ImageFileError, match="cannot write"):
        write_image(tmp_path / "file" / "out.png", ImageData(_smooth((4, 4))))
    with pytest.raises(ImageFileError, match="unknown output format '.gif'"):
        write_image(tmp_path / "out.gif", ImageData(_smooth((4, 4))))


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_grey_plus_alpha_is_kept(tmp_path, suffix):
    rng = np.random.default_rng(6)
    image = ImageData(rng.integers(0, 65536, (9, 7), dtype=np.uint16), rng.integers(0, 65536, (9, 7), dtype=np.uint16))
    write_image(tmp_path / f"x{suffix}", image)
    loaded = read_image(tmp_path / f"x{suffix}")
    assert np.array_equal(loaded.pixels, image.pixels) and np.array_equal(loaded.alpha, image.alpha)


def test_tiff_orientation_tag_and_palette(tmp_path):
    import tifffile

    pixels = np.random.default_rng(7).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "o.tif", pixels, photometric="rgb", extratags=[(274, "H", 1, 6, True)])
    assert np.array_equal(read_image(tmp_path / "o.tif").pixels, np.rot90(pixels, k=-1))
    rgb = _smooth((12, 12, 3))
    Image.fromarray(rgb).convert("P").save(tmp_path / "p.tif")
    palette = read_image(tmp_path / "p.tif")
    expected = np.asarray(Image.open(tmp_path / "p.tif").convert("RGB"))
    assert palette.pixels.dtype == np.uint8 and np.array_equal(palette.pixels, expected)


@pytest.mark.parametrize("writer", ["tifffile", "pillow", "opencv"])
def test_lzw_compressed_tiff_is_read(tmp_path, writer):
    rgb = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    path = tmp_path / "lzw.tif"
    if writer == "tifffile":
        tifffile.imwrite(path, rgb, compression="lzw", photometric="rgb")
    elif writer == "pillow":
        Image.fromarray(rgb).save(path, compression="tiff_lzw")
    else:  # OpenCV writes LZW by default
        cv2.imwrite(str(path), rgb[..., ::-1])
    assert tifffile.TiffFile(path).pages[0].compression == tifffile.COMPRESSION.LZW
    np.testing.assert_array_equal(read_image(path).pixels, rgb)


def test_a_tiff_codec_that_is_missing_is_named(tmp_path, monkeypatch):
    path = tmp_path / "lzw.tif"
    tifffile.imwrite(path, np.zeros((8, 8), np.uint8), compression="lzw")

    def without_codecs(*args, **kwargs):
        raise ValueError("<COMPRESSION.LZW: 5> requires the 'imagecodecs' package")

    monkeypatch.setattr(tifffile.TiffPage, "asarray", without_codecs)
    with pytest.raises(ImageFileError, match="needs the imagecodecs package: pip install imagecodecs"):
        read_image(path)
