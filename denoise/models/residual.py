"""Residual denoiser: encode, concatenate the noise map, predict the noise, decode, subtract."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from denoise.transforms._checks import check_image_tensor
from denoise.transforms.block import BlockTransform
from denoise.transforms.noise_map import SigmaLike, is_per_pixel, noise_map, sigma_as_tensor

MIN_PAD_MULTIPLE = 32


class ResidualDenoiser(nn.Module):
    """Wraps a body network into a denoiser that works on any H x W.

    ``forward(noisy, sigma)``: replicate-pad the image to a multiple of ``pad_multiple``, encode it, append
    the noise map at the encoded resolution, let the body predict the noise in the same encoding, decode it
    with the exact inverse and return ``noisy - noise`` cropped back to the input size.

    Args:
        encoding: an orthonormal block transform (factor f, expansion f*f).
        body: maps (B, C*f*f + C, h, w) -> (B, C*f*f, h, w); exposes ``factor``, its own downsampling.
        channels: image channels C (1 grey, 3 RGB).

    Shape:
        noisy: (B, C, H, W), any real values (values outside [0, 1] are legal and not clipped);
        sigma: number, (B,), (B, C) or per-pixel (B, 1 or C, H, W), on the image's scale;
        output: (B, C, H, W).
    """

    def __init__(self, encoding: BlockTransform, body: nn.Module, channels: int) -> None:
        super().__init__()
        self.encoding = encoding
        self.body = body
        self.channels = channels
        total_factor = encoding.factor * int(getattr(body, "factor", 1))
        self.pad_multiple = math.lcm(MIN_PAD_MULTIPLE, total_factor)

    def forward(self, noisy: torch.Tensor, sigma: SigmaLike) -> torch.Tensor:
        check_image_tensor(noisy, "noisy")
        if noisy.shape[1] != self.channels:
            raise ValueError(f"this model denoises {self.channels}-channel images, got {noisy.shape[1]} channels")
        height, width = noisy.shape[-2:]
        padding = (0, -width % self.pad_multiple, 0, -height % self.pad_multiple)  # left, right, top, bottom
        padded = F.pad(noisy, padding, mode="replicate")
        sigma = sigma_as_tensor(sigma, noisy)  # the one tensor form, from here to the noise map
        if is_per_pixel(sigma):
            sigma = F.pad(sigma, padding, mode="replicate")
        features = torch.cat([self.encoding(padded), noise_map(sigma, padded, self.encoding.factor)], dim=1)
        noise = self.encoding.inverse(self.body(features))  # (B, C, H_pad, W_pad)
        return (padded - noise)[..., :height, :width]

    @property
    def last_layer(self) -> nn.Module:
        """The layer that outputs the noise estimate (zero it and the model returns its input)."""
        return self.body.head
