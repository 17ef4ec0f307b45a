"""denoise: image denoising with residual UNets on orthonormal encodings.

Public entry points:
    denoise.transforms  exact, differentiable encodings (space-to-depth, block DCT, Haar) and noise maps
    denoise.models      registered denoising networks (`create_model`, `list_models`)
    denoise.baselines   classical methods (tuned bilateral filter) and the peers' adapters
    denoise.raw         camera raw: ``denoise.raw.pipeline.denoise_raw_file("shot.dng", "out.dng")``
"""

__version__ = "0.1.0"

__all__ = ["Denoiser", "__version__"]


def __getattr__(name: str):
    """``from denoise import Denoiser`` imports the inference stack only when asked for (PEP 562)."""
    if name == "Denoiser":
        from denoise.denoiser import Denoiser

        return Denoiser
    raise AttributeError(f"module 'denoise' has no attribute {name!r}")
