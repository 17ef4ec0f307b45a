"""Exact, differentiable image encodings: each a pure function plus a thin ``nn.Module``.

All of them work on (B, C, H, W) tensors of any floating dtype on any device, and invert exactly.
"""

from denoise.transforms.block import BlockTransform, block_inverse, block_transform
from denoise.transforms.color import RgbToYcbcr, rgb_to_ycbcr, ycbcr_to_rgb
from denoise.transforms.dct import BlockDCT, block_dct, block_idct, dct_basis, dct_matrix
from denoise.transforms.dihedral import DIHEDRAL_COUNT, dihedral, dihedral_inverse
from denoise.transforms.encodings import ENCODINGS, create_encoding, list_encodings
from denoise.transforms.haar import HaarDWT, haar_basis, haar_dwt, haar_idwt
from denoise.transforms.noise_map import is_per_pixel, noise_map, sigma_as_tensor
from denoise.transforms.phases import merge_phases, split_phases
from denoise.transforms.space_to_depth import SpaceToDepth, depth_to_space, space_to_depth

__all__ = [
    "DIHEDRAL_COUNT",
    "ENCODINGS",
    "BlockDCT",
    "BlockTransform",
    "HaarDWT",
    "RgbToYcbcr",
    "SpaceToDepth",
    "block_dct",
    "block_idct",
    "block_inverse",
    "block_transform",
    "create_encoding",
    "dct_basis",
    "dct_matrix",
    "depth_to_space",
    "dihedral",
    "dihedral_inverse",
    "haar_basis",
    "haar_dwt",
    "haar_idwt",
    "is_per_pixel",
    "list_encodings",
    "merge_phases",
    "noise_map",
    "rgb_to_ycbcr",
    "sigma_as_tensor",
    "space_to_depth",
    "split_phases",
    "ycbcr_to_rgb",
]
