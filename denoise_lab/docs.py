"""``python -m denoise_lab.docs``: copy generated result files into the marked blocks of the README and docs/.

A block looks like::

    <!-- generated from results/models.md by `make models-table` -->
    ...content, replaced wholesale...
    <!-- end generated -->

so every number in the README and in ``docs/*.md`` comes from a committed file written by a command; source
paths are relative to the repository root. ``--check`` exits 1 when a block is out of date (used by the tests).
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
    """``text`` with every generated block's body replaced by its source file's content (paths from ``root``)."""

    def replace(match: re.Match) -> str:
        source = root / match["source"]
        if not source.is_file():
            raise FileNotFoundError(f"a block names {match['source']}, which does not exist: run its command")
        return match["open"] + source.read_text() + match["close"]

    return BLOCK.sub(replace, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.docs", description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, default=Path("README.md"), help="the README at the repository root")
    parser.add_argument("--check", action="store_true", help="only report whether every page is up to date")
    args = parser.parse_args(argv)
    root = args.readme.parent
    pages = [args.readme, *sorted((root / "docs").glob("*.md"))]
    stale = []
    for page in pages:
        text = page.read_text()
        try:
            updated = render(text, root)
        except FileNotFoundError as error:
            print(f"error: {page}: {error}", file=sys.stderr)
            return 2
        if updated == text:
            continue
        stale.append(page)
        if not args.check:
            atomic_write_text(page, updated)
            print(f"updated {page}")
    if args.check and stale:
        print(f"{', '.join(map(str, stale))} out of date with results/: run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
