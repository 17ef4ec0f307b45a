"""``python -m denoise.export [--checkpoint PATH] -o model.onnx``: export a denoiser to ONNX.

Dynamic batch, height and width; any runtime that runs Conv/ConvTranspose/Pad runs it. Run it with
``python -m denoise.infer ... --backend onnxruntime --checkpoint model.onnx``. Needs the ``export`` extra.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from denoise.checkpoint import CheckpointError, default_checkpoints, load_checkpoint


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise.export", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, help="a denoise checkpoint (default: the shipped colour model)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the .onnx file to write")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    args = parser.parse_args(argv)
    if args.output.suffix != ".onnx":
        print(f"error: -o {args.output}: the output must end in .onnx", file=sys.stderr)
        return 2
    if args.output.exists() and not args.overwrite:
        print(f"error: {args.output} exists; use --overwrite to replace it", file=sys.stderr)
        return 2
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        print("error: ONNX export needs the export extra: pip install -e '.[export]'", file=sys.stderr)
        return 2
    from denoise.onnx_backend import export_onnx

    try:
        path = args.checkpoint or default_checkpoints()[3]
        model, _ = load_checkpoint(path)
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    export_onnx(model, args.output)
    print(f"wrote {args.output} ({args.output.stat().st_size / 2**20:.1f} MB) from {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
