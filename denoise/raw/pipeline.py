"""From a raw file to a denoised DNG: normalise, pack to RGGB, build the noise map, denoise, unpack, write."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from denoise.raw.cfa import pack, unpack
from denoise.raw.dng import RawFileError, RawImage, read_raw, write_dng
from denoise.raw.noise_profile import NoiseProfile, estimate_profile, profile_from_iso, sigma_map
from denoise.raw.views import RAW_VIEWS
from denoise.sigma import NoiseLevel, parse_strength

PlanesFunction = Callable[..., torch.Tensor]  # (planes (1, 4, H, W), NoiseLevel, progress, views) -> planes


def choose_profile(image: RawImage, planes: np.ndarray, iso: float | None = None) -> NoiseProfile:
    """The noise profile to use: the given ``iso``'s, the file's NoiseProfile tag, else one estimated from it."""
    if iso is not None:
        return profile_from_iso(iso)
    if image.noise_profile is not None:
        return image.noise_profile
    return estimate_profile(planes)


def denoise_planes(
    planes: np.ndarray,
    profile: NoiseProfile,
    function: PlanesFunction,
    strength: float = 1.0,
    progress=None,
    device: str | torch.device = "cpu",
    views: Sequence[int] = (0,),
) -> np.ndarray:
    """Denoise packed planes (4, H, W), normalised linear raw, with ``profile``'s per-pixel noise map.

    ``function`` runs on ``device``; ``strength`` scales the map (below 1 keeps more grain, above 1 removes
    more); ``views``: the Bayer-preserving flips and rotations averaged (:mod:`denoise.raw.views`; indices of
    :func:`~denoise.transforms.dihedral.dihedral`). Returns (4, H, W) float32.
    """
    strength = parse_strength(strength)
    tensor = torch.from_numpy(np.ascontiguousarray(planes, dtype=np.float32))[None]
    shot, read = torch.tensor([profile.shot]), torch.tensor([profile.read])
    level = NoiseLevel.of((sigma_map(tensor, shot, read) * strength).clamp(max=1.0))
    return function(tensor.to(device), level, progress, tuple(views))[0].cpu().numpy()


def shipped_raw_function(device: str = "auto", precision: str = "float32") -> tuple[PlanesFunction, torch.device]:
    """The shipped raw model (``denoise-raw.pt``) as a tiled planes function, and its device; ``precision``:
    float32 or bfloat16 (:mod:`denoise.precision`)."""
    from denoise.checkpoint import load_pretrained
    from denoise.denoiser import NetworkMethod, resolve_device
    from denoise.precision import resolve_precision
    from denoise.tiling import DEFAULT_OVERLAP

    resolved = resolve_device(device)
    dtype = resolve_precision(precision, resolved)
    model, _ = load_pretrained("denoise-raw", resolved)
    return NetworkMethod(model, None, DEFAULT_OVERLAP, channels_last=True, dtype=dtype), resolved  # Bayer views


def denoise_raw_file(
    source: str | os.PathLike,
    target: str | os.PathLike,
    function: PlanesFunction | None = None,
    strength: float = 1.0,
    iso: float | None = None,
    progress=None,
    on_profile: Callable[[NoiseProfile], None] | None = None,
    device: str | torch.device = "cpu",
    views: Sequence[int] | None = None,
) -> float:
    """Denoise the Bayer mosaic of ``source`` (a camera raw or DNG) into the DNG ``target``; its megapixels.

    ``function`` denoises packed planes (default: the shipped raw model); ``iso`` replaces the file's noise
    profile with the stated ISO model's; ``strength`` scales the noise map; ``on_profile`` is told the profile
    used; ``views``: the self-ensemble's flips and rotations (default :data:`~denoise.raw.views.RAW_VIEWS`).
    Example::

        denoise_raw_file("shot.dng", "shot_denoised.dng")
    """
    source, target = Path(source), Path(target)
    if function is None:
        function, device = shipped_raw_function()
    if target.suffix.lower() != ".dng":
        raise RawFileError(f"{target}: a denoised raw is written as DNG; give an output name ending in .dng")
    image = read_raw(source)
    planes, packing = pack(image.normalised(), image.pattern)
    profile = choose_profile(image, planes, iso)
    if on_profile is not None:
        on_profile(profile)
    views = RAW_VIEWS if views is None else views
    denoised = denoise_planes(planes, profile, function, strength, progress, device, views)
    write_dng(target, image, image.with_normalised(unpack(denoised, packing)))
    return image.visible[2] * image.visible[3] / 1e6
