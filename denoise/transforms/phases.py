"""Pixel-shuffle downsampling: an image's r x r sampling phases as r*r images of the batch, and back.

Phase (i, j) of an image is its pixels (i + r*y, j + r*x): a sub-image r times smaller. Noise correlated over
neighbouring pixels, as a camera's demosaicking and JPEG make it, is close to white within one phase, where
those neighbours are r pixels apart (Zhou et al. 2020, "When AWGN-based Denoiser Meets Real Noises"). The
split is :func:`denoise.transforms.space_to_depth.space_to_depth` with its r*r phase channels moved into the
batch, so it is exact and exportable like it.
"""

from __future__ import annotations

import torch

from denoise.transforms.space_to_depth import depth_to_space, space_to_depth


def split_phases(x: torch.Tensor, r: int = 2) -> torch.Tensor:
    """The r*r sampling phases of each image, image-major (image b's phases at rows b*r*r ... b*r*r + r*r - 1).

    Shape: (B, C, H, W), H and W multiples of r -> (B*r*r, C, H/r, W/r).

    Example:
        >>> split_phases(torch.arange(16.0).reshape(1, 1, 4, 4))[:, 0, 0, 0].tolist()
        [0.0, 1.0, 4.0, 5.0]
    """
    batch, channels, height, width = x.shape
    blocks = space_to_depth(x, r).reshape(batch, channels, r * r, height // r, width // r)
    return blocks.transpose(1, 2).reshape(batch * r * r, channels, height // r, width // r)


def merge_phases(phases: torch.Tensor, r: int = 2) -> torch.Tensor:
    """Exact inverse of :func:`split_phases`. Shape: (B*r*r, C, h, w) -> (B, C, h*r, w*r)."""
    count, channels, height, width = phases.shape
    if count % (r * r):
        raise ValueError(f"{count} phase images do not make whole images of {r * r} phases each")
    batch = count // (r * r)
    blocks = phases.reshape(batch, r * r, channels, height, width).transpose(1, 2)
    return depth_to_space(blocks.reshape(batch, channels * r * r, height, width), r)
