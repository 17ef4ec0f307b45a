"""``python -m denoise.export [CHECKPOINT] -o OUT``: export a denoiser, as a light checkpoint or to ONNX.

The output's suffix picks the format:

- ``.pt``: a light inference checkpoint. It keeps the network's weights and configuration (plus the training
  step and hyper-parameters as metadata) and drops the optimiser and loop state, so a training run's
  ``last.ckpt`` becomes a file of a few MB that loads without Lightning or YAML.
- ``.onnx``: an ONNX model with dynamic batch, height and width; any runtime that runs Conv/ConvTranspose/Pad
  runs it. Run it with ``python -m denoise.infer ... --backend onnxruntime --checkpoint model.onnx``. Needs
  the ``export`` extra.

CHECKPOINT is a training checkpoint (``.ckpt``) or a denoise checkpoint (``.pt``); by default the shipped
colour model. ``--phase-blend`` adds to a blind model the gated pixel-shuffle blend, which has no weights to
train (:func:`denoise.models.blind.with_phase_blend`), and records that in the output's metadata.
``--denoiser GAUSSIAN.pt`` puts into a blind model the UNet of a Gaussian checkpoint of the same design (one
trained further than the UNet its estimator was trained in front of), keeping the estimator
(:func:`denoise.models.blind.with_denoiser`); the output's metadata names that file and its training step.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from denoise.checkpoint import CheckpointError, default_checkpoints, load_checkpoint, save_checkpoint
from denoise.models.blind import with_denoiser, with_phase_blend

FORMATS = (".pt", ".onnx")


def _onnx_missing() -> str | None:
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        return "ONNX export needs the export extra: pip install -e '.[export]'"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise.export", description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, nargs="?", help="the checkpoint to export (default: shipped colour)")
    parser.add_argument("--checkpoint", dest="checkpoint_option", type=Path, help=argparse.SUPPRESS)  # older spelling
    parser.add_argument("-o", "--output", type=Path, required=True, help="the file to write: NAME.pt or NAME.onnx")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument(
        "--phase-blend", action="store_true",
        help="add the gated pixel-shuffle blend to a blind model (real camera noise; white noise turns it off)",
    )  # fmt: skip
    parser.add_argument(
        "--denoiser", type=Path, metavar="GAUSSIAN.pt",
        help="put into a blind model this Gaussian checkpoint's UNet (the same design); its estimator stays",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.output.suffix not in FORMATS:
        print(f"error: -o {args.output}: the output must end in .pt (checkpoint) or .onnx (ONNX)", file=sys.stderr)
        return 2
    if args.output.exists() and not args.overwrite:
        print(f"error: {args.output} exists; use --overwrite to replace it", file=sys.stderr)
        return 2
    missing = _onnx_missing() if args.output.suffix == ".onnx" else None
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return 2
    try:
        path = args.checkpoint or args.checkpoint_option or default_checkpoints()[3]
        model, metadata = load_checkpoint(path)
        earlier = metadata.get("export_args") or ""  # a file exported before: its options carry on
        if args.denoiser:  # a new UNet replaces the one an earlier --denoiser put in
            earlier = re.sub(r"\s*--denoiser \S+", "", earlier).strip()
        exported = [earlier] if earlier else []
        if args.phase_blend:
            model = with_phase_blend(model)
            exported.append("--phase-blend")
        if args.denoiser:
            unet, unet_metadata = load_checkpoint(args.denoiser)
            model = with_denoiser(model, unet)
            exported.append(f"--denoiser {args.denoiser}")
            metadata["denoiser_from"] = {"file": args.denoiser.name, "global_step": unet_metadata.get("global_step")}
        if exported:
            metadata["export_args"] = " ".join(exported)
    except (CheckpointError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.output.suffix == ".onnx" and getattr(model, "phase_gate", False):
        print(
            f"error: {path} is a blind model with the gated pixel-shuffle blend, whose gate measures each image "
            "as it runs and does not export to ONNX; the onnxruntime backend runs the Gaussian models with "
            "--sigma: export denoise-colour.pt or denoise-grey.pt",
            file=sys.stderr,
        )
        return 2
    size = "{:.1f} MB".format
    if args.output.suffix == ".pt":
        save_checkpoint(args.output, model, **{"source": Path(path).name, **metadata})  # a .pt keeps its own
        print(f"wrote {args.output} ({size(args.output.stat().st_size / 2**20)}, step {metadata.get('global_step')})")
        return 0
    from denoise.onnx_backend import export_onnx

    export_onnx(model, args.output)
    print(f"wrote {args.output} ({size(args.output.stat().st_size / 2**20)}) from {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
