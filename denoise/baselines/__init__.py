"""Classical denoisers behind the same call as the networks."""

from denoise.baselines.bilateral import (
    BilateralDenoiser,
    BilateralParams,
    bilateral_denoise,
    bilateral_denoise_torch,
    bilateral_params,
)

__all__ = ["BilateralDenoiser", "BilateralParams", "bilateral_denoise", "bilateral_denoise_torch", "bilateral_params"]
