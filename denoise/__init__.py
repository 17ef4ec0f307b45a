"""denoise: image denoising with residual UNets on orthonormal encodings.

Public entry points:
    denoise.transforms  exact, differentiable encodings (space-to-depth, block DCT, Haar) and noise maps
    denoise.models      registered denoising networks (`create_model`, `list_models`)
    denoise.baselines   classical methods (tuned bilateral filter)
"""

__version__ = "0.1.0"

from denoise.denoiser import Denoiser  # noqa: E402

__all__ = ["Denoiser", "__version__"]
