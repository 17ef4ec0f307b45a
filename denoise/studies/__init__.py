"""Studies of the trained model beyond the leaderboard, each a command that writes its result to ``results/``.

- :mod:`denoise.studies.blind`: quality lost by estimating sigma instead of being told it.
- :mod:`denoise.studies.sigma_map`: spatially varying noise, the true sigma map against single sigmas.
- :mod:`denoise.studies.real_noise`: a contact sheet of real noisy photos (RNI6), denoised blind.
- :mod:`denoise.studies.tile_consistency`: whole images against tiles, a check that the model ignores how it is cut.
"""
