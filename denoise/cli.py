"""``denoise``: the one command. ``denoise COMMAND [ARGS]``; ``denoise PHOTO ...`` is ``denoise images PHOTO ...``.

The product's commands are listed here; tools that measure it (the leaderboard, benchmarks) add theirs through
the ``denoise.commands`` entry-point group of their package, so this module never imports them.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from denoise.utils.registry import Registry

ENTRY_POINT_GROUP = "denoise.commands"


@dataclass(frozen=True)
class Command:
    """A subcommand: ``target`` is ``module:function``, a ``main(argv) -> exit status``, imported when run."""

    target: str
    summary: str

    def load(self) -> Callable[[list[str]], int]:
        module, _, function = self.target.partition(":")
        return getattr(importlib.import_module(module), function or "main")


PRODUCT_COMMANDS = {
    "images": Command("denoise.infer:main", "denoise image files, folders and globs (python -m denoise.infer)"),
    "train": Command("denoise.train:main", "train a denoiser from YAML configs: train fit --config ... (LightningCLI)"),
    "export": Command("denoise.export:main", "export a checkpoint: a light .pt for inference, or .onnx"),
    "data": Command("denoise.data.__main__:main", "list the registered image sets, or fetch them (--mirror DIR)"),
    "demo": Command("denoise.demo:main", "denoise a sample photo and write noisy | denoised | clean"),
    "app": Command("denoise.app.server:main", "a local web page: drop photos, compare, download (127.0.0.1)"),
}


def commands() -> Registry[Command]:
    """The product's commands, then those other installed packages add through ``denoise.commands``."""
    registry = Registry("command", PRODUCT_COMMANDS)
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda point: point.name):
        if point.name not in registry:  # a plug-in never replaces a product command
            summary = point.value.partition(":")[0]
            registry.add(point.name, Command(point.value, f"(from {summary})"))
    return registry


def usage(registry: Registry[Command]) -> str:
    width = max(len(name) for name in registry)
    lines = [
        "usage: denoise COMMAND [ARGS ...]    (denoise COMMAND --help for its options)",
        "       denoise PHOTO [PHOTO ...] [--sigma S]    (the same as denoise images ...)",
        "",
        "commands:",
        *(f"  {name:<{width}}  {registry[name].summary}" for name in registry),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    registry = commands()
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage(registry))
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in registry:
        if Path(name).exists() or any(char in name for char in "*?["):  # a photo, a folder or a glob
            name, rest = "images", argv
        else:
            print(
                f"error: {name!r} is neither a command ({', '.join(registry.names())}) nor an existing file",
                file=sys.stderr,
            )
            return 2
    status = registry.get(name).load()(rest)
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
