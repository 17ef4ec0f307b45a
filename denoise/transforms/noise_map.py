"""Noise-level maps: the sigma channels concatenated to an encoded image.

A model sees the noisy image after an r x r block encoding, so its noise map lives at the encoded
resolution: one channel per image channel, each pixel the noise standard deviation of the block it covers.
For an orthonormal encoding, white Gaussian noise of std sigma stays white with std sigma in every
coefficient, so the same map serves space-to-depth, DCT and Haar.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from denoise.transforms._checks import check_divisible, check_image_tensor

SigmaLike = float | torch.Tensor


def sigma_as_tensor(sigma: SigmaLike, like: torch.Tensor) -> torch.Tensor:
    """Normalise every accepted sigma form to a 4-D tensor that broadcasts against ``like``.

    Accepted forms (values on the image's scale, e.g. 25/255 for [0, 1] images):
        float or 0-d tensor    one sigma for the whole batch          -> (1, 1, 1, 1)
        (B,)                    one sigma per image                    -> (B, 1, 1, 1)
        (B, C)                  one sigma per image and channel        -> (B, C, 1, 1)
        (B, 1 or C, 1, 1)       the same, already in this form         -> unchanged
        (B, 1 or C, H, W)       a per-pixel map at the image's size    -> unchanged

    Shape:
        like: (B, C, H, W); returns a tensor of ``like``'s dtype and device.
    """
    check_image_tensor(like, "image")
    batch, channels, height, width = like.shape
    sigma = torch.as_tensor(sigma, dtype=like.dtype, device=like.device)
    if sigma.ndim == 0:
        return sigma.reshape(1, 1, 1, 1)
    if sigma.ndim == 1 and sigma.shape[0] in (1, batch):
        return sigma.reshape(-1, 1, 1, 1)
    if sigma.ndim == 2 and sigma.shape[0] in (1, batch) and sigma.shape[1] in (1, channels):
        return sigma[:, :, None, None]
    if (
        sigma.ndim == 4
        and sigma.shape[0] in (1, batch)
        and sigma.shape[1] in (1, channels)
        and sigma.shape[-2:] in ((height, width), (1, 1))
    ):
        return sigma
    raise ValueError(
        f"sigma of shape {tuple(sigma.shape)} does not fit an image batch of shape {tuple(like.shape)}: "
        f"give a number, a tensor (B,), (B, C), or a per-pixel map (B, 1 or C, {height}, {width})"
    )


def is_per_pixel(sigma: SigmaLike) -> bool:
    """True when ``sigma`` is a per-pixel map (a 4-D tensor with a size) rather than one value per image/channel."""
    return isinstance(sigma, torch.Tensor) and sigma.ndim == 4 and sigma.shape[-2:] != (1, 1)


def noise_map(sigma: SigmaLike, like: torch.Tensor, r: int = 1) -> torch.Tensor:
    """Build the sigma channels for ``like`` at the resolution of an r x r block encoding.

    Args:
        sigma: the 4-D form :func:`sigma_as_tensor` returns (B or 1, 1 or C, H or 1, W or 1); a per-pixel map
            is averaged over each r x r block.
        like: the image (before encoding) the map belongs to.
        r: block factor of the encoding (1 = image resolution).

    Returns:
        Noise map with one channel per image channel.

    Shape:
        like: (B, C, H, W) with H, W multiples of r -> (B, C, H/r, W/r).

    Example:
        >>> noise_map(torch.full((1, 1, 1, 1), 0.1), torch.zeros(2, 3, 8, 8), r=2).shape
        torch.Size([2, 3, 4, 4])
    """
    if not isinstance(sigma, torch.Tensor) or sigma.ndim != 4:
        raise TypeError("noise_map takes sigma in the 4-D form of sigma_as_tensor; convert it there first")
    check_divisible(like, r, "image")
    sigma = sigma.to(like.dtype)
    batch, channels, height, width = like.shape
    if sigma.shape[-2:] == (height, width) and r > 1:
        sigma = F.avg_pool2d(sigma, kernel_size=r)  # (B, 1 or C, H/r, W/r)
    return sigma.expand(batch, channels, height // r, width // r)
