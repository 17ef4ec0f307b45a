"""What the studies share: their command-line basics and loading the denoiser under study."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from denoise.checkpoint import CheckpointError
from denoise.data.images import list_images
from denoise.data.registry import resolve_folder
from denoise.denoiser import Denoiser
from denoise.utils.files import atomic_write_text


def parser(prog: str, description: str, dataset: str, out: str) -> argparse.ArgumentParser:
    """An argument parser with ``--checkpoint``, ``--dataset``, ``--limit`` and ``--out``."""
    result = argparse.ArgumentParser(prog=prog, description=description)
    result.add_argument("--checkpoint", help="a denoise checkpoint (default: the shipped models)")
    result.add_argument("--dataset", default=dataset, help="registered set name or image folder")
    result.add_argument("--limit", type=int, help="use only the first N images")
    result.add_argument("--out", type=Path, default=Path(out), help="output file")
    return result


def parse_and_load(
    arguments: argparse.ArgumentParser, argv: list[str] | None
) -> tuple[argparse.Namespace, Denoiser, list[Path]] | None:
    """Parse ``argv``, then load what it names: (args, denoiser, image paths), or None after one error line."""
    args = arguments.parse_args(argv)
    loaded = load(args)
    return None if loaded is None else (args, *loaded)


def load(args: argparse.Namespace) -> tuple[Denoiser, list[Path]] | None:
    """The denoiser and image paths named by ``args``; None after printing one line when either is missing."""
    try:
        denoiser = Denoiser.from_checkpoint(args.checkpoint, device="cpu")
        paths = list_images(resolve_folder(args.dataset))[: args.limit]
    except (CheckpointError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return None
    return denoiser, paths


def command_line(prog: str, argv: list[str] | None) -> str:
    """The command as typed, for the report's first line."""
    return " ".join([f"python -m {prog}", *(sys.argv[1:] if argv is None else argv)])


def write_report(path: Path, lines: list[str]) -> int:
    """Write a Markdown report atomically, echo it to stdout and return the exit status 0."""
    text = "\n".join(lines) + "\n"
    atomic_write_text(path, text)
    print(text, end="")
    return 0
