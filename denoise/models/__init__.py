"""Denoising networks: plain ``nn.Module``s, no training logic, built by name from one registry."""

from denoise.models import zoo as _zoo  # noqa: F401  (registers the models)
from denoise.models.registry import create_model, list_models, register_model
from denoise.models.residual import ResidualDenoiser

__all__ = ["ResidualDenoiser", "create_model", "list_models", "register_model"]
