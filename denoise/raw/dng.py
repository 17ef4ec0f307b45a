"""Reading camera raw files (rawpy, i.e. LibRaw) and writing DNG files (tifffile), never over an input.

:func:`read_raw` returns a :class:`RawImage`: the whole sensor mosaic as stored, the visible area, its Bayer
pattern, black and white levels, the noise profile where the file has one, and the metadata tags to write
back. :func:`write_dng` writes a mosaic of the same layout with those tags, so a raw editor (darktable and
RawTherapee are checked by ``python -m denoise_lab.raw_editors``) opens it as it opens the original.

For a DNG input the tags are the file's own: those of its first IFD and of the IFD holding the mosaic
(pattern, levels, colour matrices, white balance, orientation, crop, opcode lists, camera names, ...), and the
exposure tags of its EXIF IFD, which TIFF/EP allows in the first IFD. What is not carried: previews and
thumbnails, the rest of the EXIF IFD (maker notes) and GPS. For another raw format the tags are built from
what LibRaw reads: pattern, levels, colour matrix, white balance, orientation and ISO.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from denoise.io import ImageFileError
from denoise.raw.cfa import UnsupportedSensorError, red_phase
from denoise.raw.noise_profile import NoiseProfile
from denoise.utils.files import atomic_write_bytes

RAW_SUFFIXES = (".dng", ".cr2", ".cr3", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".orf", ".rw2", ".raf", ".pef",
                ".srw", ".raw", ".rwl", ".3fr", ".iiq", ".erf", ".mef", ".mos", ".x3f", ".kdc", ".dcr")  # fmt: skip
CFA, LINEAR_RAW = 32803, 34892  # PhotometricInterpretation of a mosaic and of a demosaicked (linear) DNG
# Tags that describe how the image data is stored, which the writer sets itself, and pointers to sub-IFDs
# fmt: off
STRUCTURE_TAGS = frozenset({254, 256, 257, 258, 259, 262, 273, 277, 278, 279, 282, 283, 284, 296, 305, 317, 322, 323,
                            324, 325, 330, 338, 339, 34665, 34853, 40965, 50740})
# fmt: on
EXIF_TO_FIRST_IFD = {
    33434: "ExposureTime",
    33437: "FNumber",
    34855: "ISOSpeedRatings",
    36867: "DateTimeOriginal",
    37386: "FocalLength",
}  # fmt: skip
LIBRAW_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}
NOISE_PROFILE = 51041


class RawFileError(ImageFileError):
    """A file that cannot be read as a supported camera raw, or a DNG that cannot be written."""


@dataclass
class RawImage:
    """A Bayer raw image and what is needed to write it back.

    Attributes:
        mosaic: (H, W) uint16, the sensor data as stored (masked borders included).
        visible: (top, left, height, width) of the image area within ``mosaic``.
        pattern: the Bayer pattern at the visible area's top-left, e.g. ``RGGB``.
        black: (2, 2) black level of each site of that pattern; white: the saturation level.
        noise_profile: the file's own NoiseProfile tag, if it has one.
        iso: the ISO, if the file states it.
        tags: metadata to write back, as tifffile ``extratags`` tuples (code, dtype, count, value, True).
    """

    mosaic: np.ndarray
    visible: tuple[int, int, int, int]
    pattern: str
    black: np.ndarray
    white: float
    noise_profile: NoiseProfile | None = None
    iso: float | None = None
    tags: list[tuple] = field(default_factory=list)

    def visible_mosaic(self) -> np.ndarray:
        top, left, height, width = self.visible
        return self.mosaic[top : top + height, left : left + width]

    def _black_map(self) -> np.ndarray:
        """The black level of every visible pixel, (H, W) float32 (the 2 x 2 levels tiled over the pattern)."""
        _, _, height, width = self.visible
        tiled = np.tile(self.black.astype(np.float32), (height // 2 + 1, width // 2 + 1))
        return tiled[:height, :width]

    def normalised(self) -> np.ndarray:
        """The visible mosaic as float32 on [0, 1]: black at 0, saturation at 1 (noise may dip below 0)."""
        black = self._black_map()
        return (self.visible_mosaic().astype(np.float32) - black) / (np.float32(self.white) - black)

    def with_normalised(self, values: np.ndarray) -> np.ndarray:
        """The full mosaic (uint16) with the visible area replaced by ``values`` (the inverse of ``normalised``),
        kept between 0 and the white level as a sensor's values are."""
        top, left, height, width = self.visible
        black = self._black_map()
        stored = values * (np.float32(self.white) - black) + black
        mosaic = self.mosaic.copy()
        mosaic[top : top + height, left : left + width] = np.clip(np.round(stored), 0, self.white).astype(np.uint16)
        return mosaic


def read_raw(path: str | os.PathLike) -> RawImage:
    """Read a camera raw or DNG file; a :class:`RawFileError` (one line, what to do) for anything else."""
    import rawpy

    path = Path(path)
    if not path.is_file():
        raise RawFileError(f"{path}: no such file")
    with _libraw_messages():
        try:
            raw = rawpy.imread(str(path))
        except (rawpy.LibRawError, OSError):
            raise RawFileError(
                f"{path}: not a camera raw file that LibRaw can read (another format under a raw name, or damaged)"
            ) from None
    with raw:
        mosaic = None
        with _libraw_messages() as said:
            try:
                mosaic = np.array(raw.raw_image, dtype=np.uint16)
            except (rawpy.LibRawError, OSError):
                pass
        if mosaic is None:
            detail = f" ({said[0].rstrip('.').lower()})" if said else ""
            raise RawFileError(f"{path}: the raw data is truncated or corrupt{detail}")
        pattern, colours = _bayer_pattern(raw, path)
        sizes = raw.sizes
        visible = (sizes.top_margin, sizes.left_margin, sizes.height, sizes.width)
        black = np.array([raw.black_level_per_channel[c] for c in colours.reshape(-1)], dtype=np.float64)
        white = float(raw.white_level)
        is_dng = path.suffix.lower() == ".dng"
        built = None if is_dng else _tags_from_libraw(raw, path, pattern, black, white)
    tags, profile, iso = _tags_from_dng(path) if is_dng else (built, None, None)
    if not white > black.max():
        raise RawFileError(f"{path}: white level {white:g} is not above the black level {black.max():g}")
    return RawImage(mosaic, visible, pattern, black.reshape(2, 2), white, profile, iso, tags)


def write_dng(path: str | os.PathLike, image: RawImage, mosaic: np.ndarray) -> None:
    """Write ``mosaic`` (the full (H, W) uint16 sensor array) as a DNG with ``image``'s tags, atomically."""
    import tifffile

    if mosaic.shape != image.mosaic.shape or mosaic.dtype != np.uint16:
        raise ValueError(f"the mosaic must be uint16 of shape {image.mosaic.shape}, got {mosaic.dtype} {mosaic.shape}")
    buffer = io.BytesIO()
    tifffile.imwrite(
        buffer, mosaic, photometric=CFA, subfiletype=0, software="denoise", extratags=image.tags, metadata=None
    )
    try:
        atomic_write_bytes(path, buffer.getvalue())
    except OSError as error:
        raise RawFileError(f"{path}: cannot write the DNG ({error.strerror or error})") from None


def _libraw_reason(error: Exception) -> str:
    return str(error).strip().rstrip(".") or type(error).__name__


@contextlib.contextmanager
def _libraw_messages():
    """Keep what LibRaw prints on the process's stderr (e.g. "Unexpected end of file") off the terminal.

    Yields a list that holds those lines once the block ends, for the one-line error that replaces them.
    """
    said: list[str] = []
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to redirect
        yield said
        return
    with tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        os.dup2(capture.fileno(), 2)
        try:
            yield said
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", "replace")
            said += [line.split(": ", 1)[-1].strip() for line in text.splitlines() if line.strip()]


def _bayer_pattern(raw, path: Path) -> tuple[str, np.ndarray]:
    """The 2 x 2 pattern of the visible area as letters, and its colour indices; refuses other sensors."""
    import rawpy

    if raw.raw_type != rawpy.RawType.Flat or raw.num_colors != 3:
        raise UnsupportedSensorError(
            f"{path}: a linear (already demosaicked) or non-RGB raw; only Bayer mosaics can be denoised as raw"
        )
    pattern = raw.raw_pattern
    if pattern is None or pattern.shape != (2, 2):
        shape = "none" if pattern is None else f"{pattern.shape[0]} x {pattern.shape[1]}"
        raise UnsupportedSensorError(
            f"{path}: the colour filter is not a 2 x 2 Bayer pattern ({shape}, e.g. Fujifilm X-Trans); "
            "only Bayer sensors are supported"
        )
    colours = np.array(raw.raw_colors_visible[:2, :2])
    description = raw.color_desc.decode("ascii", "replace")
    letters = "".join(description[c] for c in colours.reshape(-1))
    red_phase(letters)  # refuses anything but RGGB, BGGR, GRBG, GBRG
    return letters, colours


def _rational(value: float, denominator: int = 10000) -> tuple[int, int]:
    return round(value * denominator), denominator


def dng_tags(
    pattern: str,
    black: np.ndarray,
    white: float,
    neutral: np.ndarray | None = None,
    xyz_to_camera: np.ndarray | None = None,
    orientation: int = 1,
    noise_profile: NoiseProfile | None = None,
    iso: float | None = None,
    camera: str = "denoise raw",
    make: str | None = None,
    model: str | None = None,
) -> list[tuple]:
    """The DNG tags of a Bayer mosaic: pattern, levels (per site of the 2 x 2 pattern), white balance
    (``neutral``: the camera RGB of a grey), colour matrix (XYZ -> camera, D65), orientation (TIFF 1-8),
    noise profile, ISO, and the camera's make and model (how editors find a camera's profile)."""
    neutral = np.ones(3) if neutral is None else np.asarray(neutral, dtype=np.float64)
    tags: list[tuple] = [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50707, "B", 4, (1, 1, 0, 0), True),  # DNGBackwardVersion
        (50708, "s", 0, camera, True),  # UniqueCameraModel
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, tuple("RGB".index(c) for c in pattern.upper()), True),  # CFAPattern
        (50710, "B", 3, (0, 1, 2), True),  # CFAPlaneColor
        (50711, "H", 1, 1, True),  # CFALayout: rectangular
        (50713, "H", 2, (2, 2), True),  # BlackLevelRepeatDim
        (50714, "2I", 4, sum((_rational(v) for v in np.ravel(black)), ()), True),  # BlackLevel
        (50717, "I", 1, int(white), True),  # WhiteLevel
        (50728, "2I", 3, sum((_rational(v) for v in neutral), ()), True),  # AsShotNeutral
        (274, "H", 1, int(orientation), True),
    ]
    if xyz_to_camera is not None and np.any(xyz_to_camera):
        tags.append((50721, "2i", 9, sum((_rational(v) for v in np.ravel(xyz_to_camera)), ()), True))
        tags.append((50778, "H", 1, 21, True))  # CalibrationIlluminant1: D65
    if noise_profile is not None:
        tags.append((NOISE_PROFILE, "d", 2, (noise_profile.shot, noise_profile.read), True))
    if iso is not None:
        tags.append((34855, "H", 1, int(iso), True))  # ISOSpeedRatings (TIFF/EP, first IFD)
    tags += [(code, "s", 0, text, True) for code, text in ((271, make), (272, model)) if text]
    return tags


def _tags_from_libraw(raw, path: Path, pattern: str, black: np.ndarray, white: float) -> list[tuple]:
    """DNG tags for a non-DNG raw, from what LibRaw read (and the make and model of a TIFF-based raw)."""
    balance = np.array(raw.camera_whitebalance[:3], dtype=np.float64)
    neutral = balance[1] / balance if np.all(balance > 0) else None
    orientation = LIBRAW_FLIP_TO_ORIENTATION.get(raw.sizes.flip, 1)
    matrix = np.array(raw.rgb_xyz_matrix[:3], dtype=np.float64)
    make, model = _tiff_names(path)
    camera = " ".join(filter(None, (make, model))) or "denoise raw"
    return dng_tags(pattern, black, white, neutral, matrix, orientation, camera=camera, make=make, model=model)


def _tiff_names(path: Path) -> tuple[str | None, str | None]:
    """Make and Model of a TIFF-based raw (CR2, NEF, ARW, ...); (None, None) for other formats."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tiff:
            tags = tiff.pages[0].tags
            return tuple(str(tags[code].value).strip() if code in tags else None for code in (271, 272))
    except Exception:  # not a TIFF container (CR3, RAF, ...): LibRaw read it, its names are not needed
        return None, None


def _tags_from_dng(path: Path) -> tuple[list[tuple], NoiseProfile | None, float | None]:
    """The DNG's own metadata tags (first IFD, mosaic IFD, EXIF exposure), its NoiseProfile and ISO."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tiff:
            first = tiff.pages[0]
            mosaic_page = next((page for page in _all_pages(tiff) if _photometric(page) == CFA), first)
            merged: dict[int, Any] = {}
            for page in (first, mosaic_page):
                for tag in page.tags.values():
                    if tag.code not in STRUCTURE_TAGS:
                        merged[tag.code] = (tag.code, int(tag.dtype), tag.count, tag.value, True)
            exif = first.tags.get(34665)
            for code, name in EXIF_TO_FIRST_IFD.items():
                value = exif.value.get(name) if exif is not None and isinstance(exif.value, dict) else None
                if value is not None and code not in merged:
                    merged[code] = _exif_tag(code, value)
    except (tifffile.TiffFileError, OSError, ValueError, StopIteration) as error:
        raise RawFileError(f"{path}: its DNG tags cannot be read ({_libraw_reason(error)})") from None
    tags = [_writable(tag) for tag in merged.values()]
    profile = None
    if NOISE_PROFILE in merged:
        values = np.asarray(merged[NOISE_PROFILE][3], dtype=np.float64).reshape(-1)
        profile = NoiseProfile(float(values[0::2].mean()), float(values[1::2].mean()), "the file's NoiseProfile tag")
    iso = merged.get(34855, (None, None, None, None))[3]
    iso = float(np.asarray(iso).reshape(-1)[0]) if iso is not None else None
    return [tag for tag in tags if tag is not None], profile, iso


def _all_pages(tiff) -> list:
    pages = []
    for page in tiff.pages:
        pages.append(page)
        pages += list(page.pages) if getattr(page, "pages", None) else []  # SubIFDs (the raw of most DNGs)
    return pages


def _photometric(page) -> int | None:
    tag = page.tags.get(262)
    return int(tag.value) if tag is not None else None


def _exif_tag(code: int, value) -> tuple:
    if code == 36867:
        return (code, "s", 0, str(value), True)
    if code == 34855:
        return (code, "H", 1, int(np.asarray(value).reshape(-1)[0]), True)
    numerator, denominator = value if isinstance(value, tuple) and len(value) == 2 else _rational(float(value))
    return (code, "2I", 1, (int(numerator), int(denominator)), True)


def _writable(tag: tuple) -> tuple | None:
    """A tag read by tifffile as tifffile writes it: ASCII by its text, bytes as they are."""
    code, dtype, count, value, _ = tag
    if dtype == 2:  # ASCII: tifffile counts the terminator itself
        return (code, "s", 0, value if isinstance(value, str) else str(value), True)
    if isinstance(value, bytes | tuple | list | int | float | str):
        return (code, dtype, count, value, True)
    if isinstance(value, np.ndarray):
        return (code, dtype, count, tuple(value.reshape(-1).tolist()), True)
    return None  # a nested IFD or a value tifffile decoded beyond its raw form: not copied
