"""``python -m denoise_lab.docs``: copy generated result files into the README's marked blocks.

A block looks like::

    <!-- generated from results/models.md by `make models-table` -->
    ...content, replaced wholesale...
    <!-- end generated -->

so every number in the README comes from a committed file written by a command. ``--check`` exits 1 when
a block is out of date (used by the tests).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from denoise.utils.files import atomic_write_text

BLOCK = re.compile(
    r"(?P<open><!-- generated from (?P<source>\S+) by `[^`]+` -->\n)(?P<body>.*?)(?P<close><!-- end generated -->)",
    re.DOTALL,
)


def render(text: str, root: Path) -> str:
    """``text`` with every generated block's body replaced by its source file's content."""

    def replace(match: re.Match) -> str:
        source = root / match["source"]
        if not source.is_file():
            raise FileNotFoundError(f"README block names {match['source']}, which does not exist: run its command")
        return match["open"] + source.read_text() + match["close"]

    return BLOCK.sub(replace, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.docs", description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, default=Path("README.md"))
    parser.add_argument("--check", action="store_true", help="only report whether the README is up to date")
    args = parser.parse_args(argv)
    text = args.readme.read_text()
    try:
        updated = render(text, args.readme.parent)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.check:
        if updated != text:
            print(f"{args.readme} is out of date with results/: run `make docs`", file=sys.stderr)
            return 1
        return 0
    if updated != text:
        atomic_write_text(args.readme, updated)
        print(f"updated {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
