"""Denoising networks: plain ``nn.Module``s, no training logic, built by name from one registry."""

from denoise.models.blind import BlindUNetDenoiser  # noqa: I001 (after the zoo it builds on)
from denoise.models.registry import create_model, list_models, register_model
from denoise.models.residual import ResidualDenoiser
from denoise.models.zoo import ConvNeXtUNetDenoiser, UNetDenoiser

__all__ = [
    "BlindUNetDenoiser",
    "ConvNeXtUNetDenoiser",
    "ResidualDenoiser",
    "UNetDenoiser",
    "create_model",
    "list_models",
    "register_model",
]
