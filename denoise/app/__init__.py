"""The local web app: ``denoise app`` (:mod:`denoise.app.server`)."""
