"""Image files in and out: PNG, JPEG, TIFF, BMP, WebP; 8 and 16 bit; grey, RGB, with or without alpha.

Reading (:func:`read_image`) keeps the bit depth (uint8 or uint16), keeps grey as grey and RGB as RGB,
separates the alpha channel (passed through untouched), applies the EXIF orientation and keeps the ICC
profile. Palette and CMYK images are converted to RGB(A). Writing (:func:`write_image`) picks the format
from the extension, embeds the ICC profile where the format carries one (PNG, JPEG, TIFF, WebP) and is
atomic: a temporary file in the target folder renamed into place, so a killed run leaves no partial file.
Formats without 16-bit (JPEG, WebP, BMP) or alpha (JPEG) get 8-bit / opaque data with a logged warning.

Every problem with a file raises :class:`ImageFileError`, whose message names the file and what to do.
"""

from __future__ import annotations

import io
import logging
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import tifffile
from PIL import Image, UnidentifiedImageError

from denoise.utils.files import atomic_write_bytes

log = logging.getLogger("denoise")

READ_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
EXIF_ORIENTATION = 0x0112
JPEG_QUALITY = 95
_EIGHT_BIT_ONLY = (".jpg", ".jpeg", ".webp", ".bmp")
_NO_ALPHA = (".jpg", ".jpeg")
_ROWS_PER_BLOCK = 256


class ImageFileError(ValueError):
    """A file that cannot be read or written as an image; the message says which and what to do."""


@dataclass
class ImageData:
    """Decoded image.

    Attributes:
        pixels: H x W (grey) or H x W x 3 (RGB), uint8 or uint16, orientation applied.
        alpha: H x W of the same dtype, or None.
        icc_profile: the embedded ICC profile bytes, or None.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    icc_profile: bytes | None = None

    @property
    def max_value(self) -> int:
        return int(np.iinfo(self.pixels.dtype).max)

    def to_float(self) -> np.ndarray:
        """Pixels as float32 on the [0, 1] scale."""
        return self.pixels.astype(np.float32) / np.float32(self.max_value)

    def with_pixels_from_float(self, values: np.ndarray) -> ImageData:
        """A copy whose pixels are ``round(clip(values, 0, 1) * max)`` in this image's dtype.

        Converted in blocks of rows, so a large image needs no full-size float temporaries.
        """
        values = values.reshape(self.pixels.shape)
        pixels = np.empty(self.pixels.shape, self.pixels.dtype)
        for start in range(0, values.shape[0], _ROWS_PER_BLOCK):
            block = np.clip(values[start : start + _ROWS_PER_BLOCK], 0.0, 1.0) * self.max_value
            pixels[start : start + _ROWS_PER_BLOCK] = np.rint(block)
        return ImageData(pixels, self.alpha, self.icc_profile)


# ---------------------------------------------------------------- reading


def apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply EXIF orientation 1..8 to an H x W (x C) array (as Pillow's ``exif_transpose`` does)."""
    transforms = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],  # mirror left-right
        3: lambda a: a[::-1, ::-1],  # rotate 180
        4: lambda a: a[::-1],  # mirror top-bottom
        5: lambda a: a.swapaxes(0, 1),  # transpose
        6: lambda a: np.rot90(a, k=-1),  # rotate 90 clockwise
        7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],  # transverse
        8: lambda a: np.rot90(a, k=1),  # rotate 90 counter-clockwise
    }
    return np.ascontiguousarray(transforms.get(orientation, transforms[1])(array))


_PNG_GREY_ALPHA = 4  # IHDR colour type


def _sixteen_bit_layout(image: Image.Image, raw: bytes) -> str | None:
    """For 16-bit multi-channel PNG files, which Pillow reduces to 8 bits: "grey_alpha" or "colour".

    None for everything Pillow decodes faithfully.
    """
    if image.format == "PNG" and raw[24] == 16 and raw[25] != 0:  # IHDR: bit depth, colour type
        return "grey_alpha" if raw[25] == _PNG_GREY_ALPHA else "colour"
    return None


def _decode_with_opencv(raw: bytes, path: Path) -> np.ndarray:
    array = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None:
        raise ImageFileError(f"{path}: the file is corrupt or truncated; re-export or re-download it")
    conversion = cv2.COLOR_BGRA2RGBA if array.ndim == 3 and array.shape[2] == 4 else cv2.COLOR_BGR2RGB
    return cv2.cvtColor(array, conversion)


def _decode_with_pillow(image: Image.Image, path: Path) -> np.ndarray:
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode == "PA":
        image = image.convert("RGBA")
    elif image.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        image = image.convert("RGB")
    elif image.mode == "1":
        image = image.convert("L")
    elif image.mode in ("I;16", "I;16L", "I;16B", "I"):
        array = np.asarray(image)
        if array.min() < 0 or array.max() > 65535:
            raise ImageFileError(f"{path}: 32-bit integer pixels are not supported; convert to 8 or 16 bit")
        return array.astype(np.uint16)
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        raise ImageFileError(f"{path}: pixel format {image.mode} is not supported; convert to 8/16-bit RGB or grey")
    return np.asarray(image)


def _read_tiff(raw: bytes, path: Path) -> tuple[np.ndarray, int, bytes | None]:
    """Decode a TIFF with tifffile (any layout Pillow may not know): (H x W [x C] array, orientation, ICC)."""
    with tifffile.TiffFile(io.BytesIO(raw)) as tiff:
        page = tiff.pages[0]
        array = page.asarray()
        if page.planarconfig == tifffile.PLANARCONFIG.SEPARATE and array.ndim == 3:
            array = np.moveaxis(array, 0, -1)  # (C, H, W) -> (H, W, C)
        if page.photometric == tifffile.PHOTOMETRIC.PALETTE:
            colormap = page.colormap  # (3, 2**bits), uint16
            array = colormap.T[array]
            array = (array >> 8).astype(np.uint8) if page.bitspersample <= 8 else array  # v*257 and v<<8 both -> v
        elif page.photometric == tifffile.PHOTOMETRIC.SEPARATED:  # CMYK -> RGB
            ink = array[..., :4].astype(np.float64) / np.iinfo(array.dtype).max
            rgb = (1 - ink[..., :3]) * (1 - ink[..., 3:4])
            array = np.round(rgb * np.iinfo(array.dtype).max).astype(array.dtype)
        elif page.photometric not in (tifffile.PHOTOMETRIC.MINISBLACK, tifffile.PHOTOMETRIC.RGB):
            raise ImageFileError(f"{path}: TIFF colour space {page.photometric.name} is not supported; save as RGB")
        orientation_tag = page.tags.get(274)
        icc_tag = page.tags.get(34675)
        orientation = int(orientation_tag.value) if orientation_tag else 1
        icc_profile = bytes(icc_tag.value) if icc_tag else None
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    if array.dtype not in (np.uint8, np.uint16):
        raise ImageFileError(f"{path}: {array.dtype} pixels are not supported; save as 8 or 16-bit integers")
    if array.size == 0:
        raise ImageFileError(f"{path}: the image has no pixels ({'x'.join(map(str, array.shape))})")
    return array, orientation, icc_profile


def read_image(path: str | os.PathLike) -> ImageData:
    """Read an image file; see the module docstring for what is kept. Raises :class:`ImageFileError`."""
    path = Path(path)
    if not path.is_file():
        raise ImageFileError(f"{path}: no such file; check the path")
    raw = path.read_bytes()
    if not raw:
        raise ImageFileError(f"{path}: the file is empty; re-export or re-download it")
    if raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) >= 24 and 0 in struct.unpack(">II", raw[16:24]):
        width, height = struct.unpack(">II", raw[16:24])
        raise ImageFileError(f"{path}: the image has no pixels ({width}x{height}); re-export it")
    if raw[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):  # TIFF and BigTIFF
        try:
            array, orientation, icc_profile = _read_tiff(raw, path)
        except ImageFileError:
            raise
        except Exception as error:  # tifffile raises many types for damaged files
            if "imagecodecs" in str(error):  # a compression tifffile decodes only with that package
                raise ImageFileError(
                    f"{path}: its TIFF compression needs the imagecodecs package: pip install imagecodecs"
                ) from None
            raise ImageFileError(f"{path}: the file is corrupt or truncated ({error}); re-export it") from None
        return _split_alpha(apply_orientation(array, orientation), icc_profile)
    try:
        with Image.open(io.BytesIO(raw)) as image:
            image.load()  # decodes everything: a truncated file fails here
            if image.width == 0 or image.height == 0:
                raise ImageFileError(f"{path}: the image has no pixels ({image.width}x{image.height})")
            orientation = int(image.getexif().get(EXIF_ORIENTATION, 1))
            icc_profile = image.info.get("icc_profile") or None
            layout = _sixteen_bit_layout(image, raw)
            if layout:
                array = _decode_with_opencv(raw, path)
                array = array[..., [0, 3]] if layout == "grey_alpha" else array  # OpenCV expands it to RGBA
            else:
                array = _decode_with_pillow(image, path)
    except UnidentifiedImageError:
        raise ImageFileError(f"{path}: not an image file (supported: {', '.join(READ_SUFFIXES)})") from None
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, ImageFileError):
            raise
        raise ImageFileError(f"{path}: the file is corrupt or truncated ({error}); re-export it") from None
    return _split_alpha(apply_orientation(array, orientation), icc_profile)


def _split_alpha(array: np.ndarray, icc_profile: bytes | None) -> ImageData:
    """H x W x 2|4 -> pixels + alpha; H x W (x 1|3) -> pixels."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim == 3 and array.shape[2] in (2, 4):  # grey+alpha or RGB+alpha
        pixels, alpha = array[..., :-1], array[..., -1]
        pixels = pixels[..., 0] if pixels.shape[2] == 1 else pixels
        return ImageData(np.ascontiguousarray(pixels), np.ascontiguousarray(alpha), icc_profile)
    return ImageData(array, None, icc_profile)


# ---------------------------------------------------------------- writing


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _embed_icc_png(encoded: bytes, icc_profile: bytes) -> bytes:
    """Insert an iCCP chunk right after IHDR (8-byte signature + 25-byte IHDR chunk)."""
    chunk = _png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc_profile))
    return encoded[:33] + chunk + encoded[33:]


def _embed_icc_jpeg(encoded: bytes, icc_profile: bytes) -> bytes:
    """Insert APP2 ICC_PROFILE segments right after the SOI marker."""
    size = 65519  # largest profile slice per segment
    parts = [icc_profile[i : i + size] for i in range(0, len(icc_profile), size)]
    segments = b""
    for index, part in enumerate(parts, start=1):
        payload = b"ICC_PROFILE\x00" + bytes([index, len(parts)]) + part
        segments += b"\xff\xe2" + struct.pack(">H", len(payload) + 2) + payload
    return encoded[:2] + segments + encoded[2:]


def _encode_grey_alpha_png(array: np.ndarray) -> bytes:
    """PNG of colour type 4 (grey + alpha), 8 or 16 bit: OpenCV can only store it as RGBA."""
    height, width, _ = array.shape
    depth = 16 if array.dtype == np.uint16 else 8
    header = struct.pack(">IIBBBBB", width, height, depth, 4, 0, 0, 0)
    rows = array.astype(">u2" if depth == 16 else np.uint8).reshape(height, -1).view(np.uint8)
    scanlines = np.hstack([np.zeros((height, 1), np.uint8), rows])  # filter type 0 per row
    body = _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(scanlines.tobytes(), 6))
    return b"\x89PNG\r\n\x1a\n" + body + _png_chunk(b"IEND", b"")


def _encode(suffix: str, pixels: np.ndarray, alpha: np.ndarray | None, icc_profile: bytes | None) -> bytes:
    array = pixels if alpha is None else np.dstack([pixels, alpha])  # H x W (x C)
    channels = 1 if array.ndim == 2 else array.shape[2]
    if suffix in (".tif", ".tiff"):
        buffer = io.BytesIO()
        photometric = "rgb" if pixels.ndim == 3 else "minisblack"
        extrasamples = ("unassalpha",) if alpha is not None else None
        tifffile.imwrite(
            buffer,
            array,
            photometric=photometric,
            extrasamples=extrasamples,
            iccprofile=icc_profile,
            compression="zlib",
        )
        return buffer.getvalue()
    if suffix == ".webp":
        mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels]
        image = Image.fromarray(array, mode if mode != "LA" else None)
        if mode in ("L", "LA"):
            image = image.convert("RGBA" if mode == "LA" else "RGB")  # WebP stores colour only
        buffer = io.BytesIO()
        image.save(buffer, format="WEBP", lossless=True, exact=True, icc_profile=icc_profile or b"")
        return buffer.getvalue()
    if channels == 2 and suffix == ".png":
        data = _encode_grey_alpha_png(array)
        return _embed_icc_png(data, icc_profile) if icc_profile else data
    if channels >= 3:
        conversion = cv2.COLOR_RGBA2BGRA if channels == 4 else cv2.COLOR_RGB2BGR
        array = cv2.cvtColor(array, conversion)
    elif channels == 2:  # grey + alpha: OpenCV stores it as BGRA
        array = cv2.cvtColor(array[..., 0], cv2.COLOR_GRAY2BGR)
        array = np.dstack([array, alpha])
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if suffix in (".jpg", ".jpeg") else []
    ok, encoded = cv2.imencode(suffix, array, params)
    if not ok:
        raise ImageFileError(f"OpenCV could not encode a {suffix} image")
    data = encoded.tobytes()
    if icc_profile and suffix == ".png":
        data = _embed_icc_png(data, icc_profile)
    elif icc_profile and suffix in (".jpg", ".jpeg"):
        data = _embed_icc_jpeg(data, icc_profile)
    return data


def write_image(path: str | os.PathLike, image: ImageData) -> None:
    """Write ``image`` atomically; the format comes from the extension of ``path``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READ_SUFFIXES:
        raise ImageFileError(f"{path}: unknown output format {suffix!r}; use one of {', '.join(READ_SUFFIXES)}")
    pixels, alpha = image.pixels, image.alpha
    if pixels.dtype == np.uint16 and suffix in _EIGHT_BIT_ONLY:
        log.warning("%s: %s holds 8 bits per channel; the 16-bit result is reduced to 8 bits", path, suffix)
        pixels = np.round(pixels / 257.0).astype(np.uint8)
        alpha = None if alpha is None else np.round(alpha / 257.0).astype(np.uint8)
    if alpha is not None and suffix in _NO_ALPHA:
        log.warning("%s: %s has no alpha channel; transparency is dropped", path, suffix)
        alpha = None
    data = _encode(suffix, pixels, alpha, image.icc_profile)
    try:
        atomic_write_bytes(path, data)
    except OSError as error:
        raise ImageFileError(f"{path}: cannot write ({error.strerror or error}); choose a writable folder") from None
