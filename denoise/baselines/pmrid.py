"""PMRID (Wang et al., ECCV 2020, "Practical Deep Raw Image Denoising on Mobile Devices"): the raw peer.

The network is rebuilt here from the paper's description, with parameter names that match the authors'
released PyTorch weights (Apache-2.0; ``../shared/models/PMRID/torch_pretrained.ckp`` in this project's
workspace): a UNet of separable 5x5 convolutions on packed RGGB raw, which adds its input back.

It was trained on one phone's sensor at ISO 1600 after a "k-sigma" transform, which maps a raw of any noise
``variance = k * x + s`` (in the sensor's digital numbers) onto the noise of the anchor ISO; the output goes
back through the inverse. :func:`pmrid_denoise` takes our noise profile (``shot``, ``read`` on the [0, 1]
scale), so the peer is given the exact noise level, as our raw model is.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

WHITE_MINUS_BLACK = 959.0  # the training phone's range in digital numbers ("V" in the authors' code)
ANCHOR_K, ANCHOR_S = 0.0005995267 * 1600 + 0.00868861, 7.11772e-7 * 1600**2 + 6.514934e-4 * 1600 + 0.11492713
INPUT_SCALE = 256.0


def _conv(cin: int, cout: int, kernel: int, stride: int = 1, separable: bool = False, relu: bool = False):
    """A convolution (depthwise + pointwise when ``separable``), optionally followed by ReLU."""
    padding = kernel // 2
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    if separable:
        layers["depthwise"] = nn.Conv2d(cin, cin, kernel, stride, padding, groups=cin, bias=False)
        layers["pointwise"] = nn.Conv2d(cin, cout, 1)
    else:
        layers["conv"] = nn.Conv2d(cin, cout, kernel, stride, padding)
    if relu:
        layers["relu"] = nn.ReLU(inplace=True)
    return nn.Sequential(layers)


class _EncoderBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = _conv(cin, cout // 4, 5, stride, separable=True, relu=True)
        self.conv2 = _conv(cout // 4, cout, 5, separable=True)
        self.proj = nn.Identity() if stride == 1 and cin == cout else _conv(cin, cout, 3, stride, separable=True)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv2(self.conv1(x)) + self.proj(x))


def _encoder_stage(cin: int, cout: int, blocks: int) -> nn.Sequential:
    return nn.Sequential(_EncoderBlock(cin, cout, 2), *(_EncoderBlock(cout, cout, 1) for _ in range(blocks - 1)))


class _DecoderBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv0 = _conv(channels, channels, 3, separable=True, relu=True)
        self.conv1 = _conv(channels, channels, 3, separable=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv1(self.conv0(x))


class _DecoderStage(nn.Module):
    def __init__(self, cin: int, skip: int, cout: int) -> None:
        super().__init__()
        self.decode_conv = _DecoderBlock(cin)
        self.upsample = nn.ConvTranspose2d(cin, cout, 2, stride=2)
        self.proj_conv = _conv(skip, cout, 3, separable=True, relu=True)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.upsample(self.decode_conv(x)) + self.proj_conv(skip)


class PMRID(nn.Module):
    """The PMRID network. Shape: (B, 4, H, W), H and W multiples of 32 -> (B, 4, H, W)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv0 = _conv(4, 16, 3, relu=True)
        self.enc1, self.enc2 = _encoder_stage(16, 64, 2), _encoder_stage(64, 128, 2)
        self.enc3, self.enc4 = _encoder_stage(128, 256, 4), _encoder_stage(256, 512, 4)
        self.encdec = _conv(512, 64, 3, separable=True, relu=True)
        self.dec1, self.dec2 = _DecoderStage(64, 256, 64), _DecoderStage(64, 128, 32)
        self.dec3, self.dec4 = _DecoderStage(32, 64, 32), _DecoderStage(32, 16, 16)
        self.out0 = _DecoderBlock(16)
        self.out1 = _conv(16, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c0 = self.conv0(x)
        c1 = self.enc1(c0)
        c2 = self.enc2(c1)
        c3 = self.enc3(c2)
        c4 = self.enc4(c3)
        up = self.dec1(self.encdec(c4), c3)
        up = self.dec4(self.dec3(self.dec2(up, c2), c1), c0)
        return x + self.out1(self.out0(up))


@functools.lru_cache(maxsize=2)
def load_pmrid(path: str) -> PMRID:
    """The network with the authors' weights from ``path`` (their ``torch_pretrained.ckp``), in eval mode."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"PMRID weights {path} are missing (the authors' torch_pretrained.ckp)")
    network = PMRID()
    network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return network.eval().to(memory_format=torch.channels_last)


def k_sigma(planes: torch.Tensor, shot: float, read: float, inverse: bool = False) -> torch.Tensor:
    """The k-sigma transform from noise (shot, read) on [0, 1] to the anchor ISO's, or back (``inverse``)."""
    k, s = shot * WHITE_MINUS_BLACK, read * WHITE_MINUS_BLACK**2  # in digital numbers
    gain = ANCHOR_K / k
    offset = (s / k**2 - ANCHOR_S / ANCHOR_K**2) * ANCHOR_K
    if inverse:
        return (planes * WHITE_MINUS_BLACK - offset) / gain / WHITE_MINUS_BLACK
    return (planes * WHITE_MINUS_BLACK * gain + offset) / WHITE_MINUS_BLACK


def pmrid_denoise(planes: np.ndarray, shot: float, read: float, weights: str) -> np.ndarray:
    """Denoise packed RGGB planes (4, H, W) on [0, 1] of noise (shot, read) with PMRID. Returns (4, H, W)."""
    network = load_pmrid(weights)
    tensor = torch.from_numpy(np.ascontiguousarray(planes, dtype=np.float32))[None].clamp(0, 1)
    height, width = tensor.shape[-2:]
    padded = F.pad(tensor, (0, -width % 32, 0, -height % 32), mode="reflect")
    # channels-last memory, as our raw model runs: measured about twice as fast as NCHW for this network
    scaled = (k_sigma(padded, shot, read) * INPUT_SCALE).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        out = network(scaled).contiguous() / INPUT_SCALE
    return k_sigma(out, shot, read, inverse=True)[0, :, :height, :width].numpy()
