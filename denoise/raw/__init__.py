"""Camera raw: read a Bayer mosaic with its metadata, denoise it before demosaicking, write a DNG.

In raw, noise is independent per pixel and close to Poisson-Gaussian, so the noise level is a per-pixel map
``sigma(x) = sqrt(a * x + b)``. The mosaic is packed to four RGGB planes (space-to-depth aligned to the colour
filter pattern), normalised by its black and white levels, and denoised by a network that takes the four
planes and their noise map: the design of the sRGB models on the data it was first made for.

- :mod:`denoise.raw.cfa`: colour-filter patterns, packing to RGGB and back (exact inverses).
- :mod:`denoise.raw.noise_profile`: the noise model, from a DNG's NoiseProfile, the ISO or the mosaic itself.
- :mod:`denoise.raw.dng`: reading raw files (rawpy / LibRaw) and writing DNG files.
- :mod:`denoise.raw.pipeline`: the whole path from a raw file to a denoised DNG.
"""
