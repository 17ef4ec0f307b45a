"""``python -m denoise.training.export RUN.ckpt -o checkpoints/NAME.pt``: a light inference checkpoint.

Keeps the network's weights and configuration (plus the training step and hyper-parameters as metadata)
and drops the optimiser and loop state, so the file is a few MB and loads without Lightning or YAML.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from denoise.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise.training.export", description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="a training checkpoint (.ckpt) or a denoise checkpoint")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the light checkpoint to write (.pt)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    args = parser.parse_args(argv)
    if args.output.exists() and not args.overwrite:
        print(f"error: {args.output} exists; use --overwrite to replace it", file=sys.stderr)
        return 2
    try:
        model, metadata = load_checkpoint(args.checkpoint)
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    save_checkpoint(args.output, model, source=args.checkpoint.name, **metadata)
    size = args.output.stat().st_size / 2**20
    print(f"wrote {args.output} ({size:.1f} MB, step {metadata.get('global_step')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
