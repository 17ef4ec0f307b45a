"""``python -m denoise_lab.models_table``: the registered configurations with parameters and GMACs per megapixel.

Prints a Markdown table; ``--out FILE`` also writes it (``make models-table`` -> results/models.md,
which the README shows).
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path
from typing import Any

from denoise.models.blocks import DOWNSAMPLERS
from denoise.models.registry import create_model, list_models
from denoise.transforms.encodings import list_encodings
from denoise.utils.files import atomic_write_text
from denoise_lab.profile import count_parameters, gmacs_per_megapixel

# Architecture choices crossed with every encoding; the other arguments keep their defaults.
_VARIANTS: dict[str, dict[str, list[Any]]] = {"unet": {"downsample": sorted(DOWNSAMPLERS)}}


def configurations(channels: int = 3) -> list[dict[str, Any]]:
    """Every registered model x encoding (x its listed variants), as ``create_model`` keyword sets."""
    configs = []
    for name in list_models():
        variants = _VARIANTS.get(name, {})
        for encoding in list_encodings():
            for values in itertools.product(*variants.values()):
                configs.append(
                    {
                        "name": name,
                        "channels": channels,
                        "encoding": encoding,
                        **dict(zip(variants, values, strict=True)),
                    }
                )
    return configs


def table(channels: int = 3) -> str:
    """Markdown table: model, encoding, options, parameters, GMACs per megapixel."""
    lines = [
        "| model | encoding | options | parameters | GMACs / MP |",
        "|---|---|---|---:|---:|",
    ]
    for config in configurations(channels):
        model = create_model(**config).eval()
        options = (
            ", ".join(f"{key}={value}" for key, value in config.items() if key not in ("name", "channels", "encoding"))
            or "-"
        )
        lines.append(
            f"| {config['name']} | {config['encoding']} | {options} | "
            f"{count_parameters(model) / 1e6:.2f} M | {gmacs_per_megapixel(model, channels):.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.models_table", description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=3, help="image channels (3 colour, 1 grey)")
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    args = parser.parse_args(argv)
    text = (
        f"Default widths (32, 64, 128, 256), {args.channels}-channel input; GMACs per megapixel "
        f"measured with torch's FlopCounterMode at 256x256 x16.\n\n" + table(args.channels)
    )
    print(text, end="")
    if args.out:
        atomic_write_text(args.out, text)


if __name__ == "__main__":
    main()
