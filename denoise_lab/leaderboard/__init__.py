"""The PSNR/SSIM leaderboard: every method on the benchmark sets under one protocol (``make leaderboard``)."""
