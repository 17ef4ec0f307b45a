"""What measures and documents the product: leaderboard, studies, benchmarks, ablations, forecasts, model card.

Everything here imports :mod:`denoise`; :mod:`denoise` never imports this package (``tests/test_layout.py``).
"""
