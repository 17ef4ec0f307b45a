"""Studies of the trained model beyond the leaderboard, each a command that writes its result to ``results/``.

- :mod:`denoise_lab.studies.blind`: quality lost by estimating sigma instead of being told it.
- :mod:`denoise_lab.studies.sigma_map`: spatially varying noise, the true sigma map against single sigmas.
- :mod:`denoise_lab.studies.real_noise`: a contact sheet of real noisy photos (RNI6), denoised blind.
- :mod:`denoise_lab.studies.tile_consistency`: whole images against tiles, a check that the model ignores how it is cut.
"""
