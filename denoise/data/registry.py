"""The named image sets: where they come from, their licences and the checksum of every file.

A set lives in ``<data root>/<split>/<name>`` (see :func:`denoise.data.images.data_root`). Files are listed
with their SHA-256 in ``checksums.json`` beside this module, recorded from the public sources; a fetched or
mirrored file must match it. Sets whose files are not recorded yet (DIV2K's archive) cannot be fetched: put
their images in the folder yourself, or pass any folder path where a set name is accepted. A set with no
``base_url`` (Wallpapers25, whose files were made from its sources by downscaling) is copied from a mirror only.
A set made of an installed package's sample images (SkimagePhotos: scikit-image's photographs) is written from
the package, each image checked by the SHA-256 of its pixels.
Large training sets published as one archive (DIV2K, Flickr2K, the Waterloo Exploration Database) carry an
:class:`Archive`: the fetch downloads and unpacks it, verified when its checksum is recorded.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from denoise.data.images import data_root
from denoise.utils.registry import Registry

_FFDNET = "https://raw.githubusercontent.com/cszn/FFDNet/master/testsets"
_BSDS_LICENCE = "Berkeley Segmentation Dataset: free for non-commercial research and educational use"


@dataclass(frozen=True)
class Archive:
    """A set published as one archive file.

    Attributes:
        url: the official download address of the archive (.zip, .tar[.gz] or .rar).
        inner: the folder inside the archive that holds the images.
        images: how many images it holds (checked after unpacking).
        sha256: the archive's SHA-256 when recorded; without it the download cannot be verified, and the
            fetch says so and prints the checksum it got.
    """

    url: str
    inner: str
    images: int
    sha256: str | None = None


@dataclass(frozen=True)
class ImageSet:
    """A named image set."""

    name: str
    split: str  # "train", "test", "val" (validation only: never trained on, never a test set) or "real"
    base_url: str  # files are fetched from f"{base_url}/{file name}"
    licence: str
    description: str
    grey: bool = False
    files: dict[str, str] = field(default_factory=dict)  # file name -> SHA-256 (of the pixels, for a package's)
    archive: Archive | None = None  # set for sets published as one archive
    package: str = ""  # a module whose sample images make the set: file "NAME.png" is ``package.NAME()``

    @property
    def folder(self) -> str:
        return f"{self.split}/{self.name}"


@functools.lru_cache(maxsize=1)
def _checksums() -> dict[str, dict[str, str]]:
    return json.loads(resources.files("denoise.data").joinpath("checksums.json").read_text())


def _set(
    name: str, split: str, base_url: str, licence: str, description: str, grey: bool = False, package: str = ""
) -> ImageSet:
    return ImageSet(name, split, base_url, licence, description, grey, _checksums().get(name, {}), package=package)


REGISTRY: Registry[ImageSet] = Registry(
    "data set",
    {
        image_set.name: image_set
        for image_set in (
            _set(
                "CBSD432",
                "train",
                "https://raw.githubusercontent.com/Magauiya/Extended_SURE/master/Dataset/CBSD432",
                _BSDS_LICENCE,
                "432 colour BSDS500 images (train + test minus CBSD68), 481x321 JPEG",
            ),
            _set(
                "Wallpapers25",
                "train",
                "",
                "per file, CC-BY-4.0, CC-BY-SA-3.0/4.0 or CC0-1.0 "
                "(the set's README names each file's author and licence)",
                "25 clean photographs, long side 1600 px (area-downscaled): flowers, foliage, landscapes, night sky, "
                "animals, textiles; far more saturated than BSD. From Debian's lomiri-wallpapers-16.04/-20.04 "
                "(20.04.0-2) and lxqt-themes (1.2.0-1, github.com/lxqt/lxqt-themes wallpapers/); mirror only",
            ),
            ImageSet(
                "DIV2K",
                "train",
                "https://data.vision.ee.ethz.ch/cvl/DIV2K",
                "DIV2K: academic research use only",
                "800 2K-resolution photographs (NTIRE 2017), about 3.5 GB",
                archive=Archive("https://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_train_HR.zip", "DIV2K_train_HR", 800),
            ),
            ImageSet(
                "Flickr2K",
                "train",
                "https://cv.snu.ac.kr/research/EDSR",
                "Flickr photographs collected for EDSR (Lim et al. 2017): research use, each under its owner's terms",
                "2650 2K-resolution photographs, about 20 GB",
                archive=Archive("https://cv.snu.ac.kr/research/EDSR/Flickr2K.tar", "Flickr2K/Flickr2K_HR", 2650),
            ),
            ImageSet(
                "WaterlooExploration",
                "train",
                "https://ece.uwaterloo.ca/~k29ma/exploration/",
                "Waterloo Exploration Database (Ma et al. 2017): research purposes",
                "4744 pristine natural photographs (FFDNet trained on them too); a RAR archive, unpacked with bsdtar",
                archive=Archive(
                    "http://ivc.uwaterloo.ca/database/WaterlooExploration/exploration_database_and_code.rar",
                    "exploration_database_and_code/pristine_images",
                    4744,
                ),
            ),
            _set(
                "CBSD68", "test", f"{_FFDNET}/CBSD68", _BSDS_LICENCE, "68 colour BSD images, the colour AWGN benchmark"
            ),
            _set(
                "Kodak24",
                "test",
                f"{_FFDNET}/Kodak24",
                "Kodak Lossless True Color Image Suite: free to use",
                "24 Kodak photos, the 500x500 crops used by FFDNet",
            ),
            _set(
                "McMaster",
                "test",
                f"{_FFDNET}/McMaster",
                "McMaster colour set: research use",
                "18 500x500 colour TIFF crops with saturated colour and fine colour detail",
            ),
            _set(
                "BSD68",
                "test",
                f"{_FFDNET}/BSD68",
                _BSDS_LICENCE,
                "68 grey BSD images, the grey AWGN benchmark",
                grey=True,
            ),
            _set(
                "Set12",
                "test",
                f"{_FFDNET}/Set12",
                "classic test images: research use",
                "12 grey test images",
                grey=True,
            ),
            _set(
                "SkimagePhotos",
                "val",
                "",
                "public domain or CC0-1.0 (each function's docstring in skimage.data)",
                "7 colour photographs that scikit-image ships (astronaut, cat, coffee, rocket launch, "
                "immunohistochemistry, retina, Hubble deep field): validation outside every training source",
                package="skimage.data",
            ),
            _set(
                "RNI6", "real", f"{_FFDNET}/RNI6", "research use", "6 photos with real, unknown noise (no ground truth)"
            ),
            _set(
                "PolyU100",
                "real",
                "https://raw.githubusercontent.com/csjunxu/PolyU-Real-World-Noisy-Images-Dataset/master/CroppedImages",
                "PolyU real-world noisy images (Xu et al. 2018): non-commercial research and personal use only",
                "100 real noisy 512x512 JPEG crops (*_real) with references (*_mean, the mean of many shots); "
                "40 scenes, 5 cameras, ISO 800-6400",
            ),
        )
    },
    ignore_case=True,
)


def get_set(name: str) -> ImageSet:
    """The registered set called ``name`` (case-insensitive)."""
    return REGISTRY.get(name)


def resolve_folder(name_or_path: str) -> Path:
    """A registered set's folder under the data root, or the given folder path; a clear error if missing."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    if name_or_path in REGISTRY:
        folder = data_root() / get_set(name_or_path).folder
        if folder.is_dir():
            return folder
        raise FileNotFoundError(
            f"data set {name_or_path} is not in {folder}: run `make data` (offline: `make data DATA_MIRROR=DIR`) "
            "or set DENOISE_DATA_DIR to a folder that has it"
        )
    raise FileNotFoundError(f"{name_or_path} is neither a folder nor a registered data set ({', '.join(REGISTRY)})")
