"""``python -m denoise.data``: list the registered image sets, or fetch them into the data folder.

python -m denoise.data list
python -m denoise.data fetch CBSD432 CBSD68 [--mirror DIR] [--root data]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from denoise.data.fetch import FetchError, fetch, is_present
from denoise.data.images import data_root
from denoise.data.registry import REGISTRY, get_set


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise.data", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="the registered sets and whether they are present")
    getting = commands.add_parser("fetch", help="download (or copy from --mirror) and verify sets")
    getting.add_argument("names", nargs="+", metavar="NAME", help=f"of {', '.join(REGISTRY)}")
    getting.add_argument("--mirror", type=Path, help="local folder laid out as train/NAME, test/NAME, real/NAME")
    for sub in (listing, getting):
        sub.add_argument("--root", type=Path, default=None, help="data folder (default: $DENOISE_DATA_DIR or data/)")
    args = parser.parse_args(argv)
    root = args.root or data_root()
    if args.command == "list":
        for image_set in REGISTRY.values():
            state = "present" if is_present(image_set, root) else "missing"
            print(
                f"{image_set.name:9s} {image_set.folder:16s} {len(image_set.files):4d} files  {state:8s} "
                f"{image_set.description}"
            )
        return 0
    try:
        for name in args.names:
            folder = fetch(get_set(name), root, args.mirror)
            print(f"{name}: ready in {folder}")
    except (FetchError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
