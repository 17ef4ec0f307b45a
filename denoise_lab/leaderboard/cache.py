"""Per-image results, appended as JSON lines as soon as each is computed, so a re-run (or a run that was
stopped) computes only what is new. Key: method key, data set, image, sigma, seed.

The method key changes whenever a method's numbers can change (a new checkpoint file, table or package
version), so the rows of a superseded version stay in the file until :meth:`ResultCache.prune` drops them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from denoise.utils.files import atomic_write_text


def cache_key(method_key: str, dataset: str, image: str, sigma: float, seed: int) -> str:
    return f"{method_key}|{dataset}|{image}|{sigma:g}|{seed}"


def method_key_of(key: str) -> str:
    """The method key a :func:`cache_key` was made from."""
    return key.split("|", 1)[0]


class ResultCache:
    """A JSON-lines file of result rows, indexed by :func:`cache_key`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: dict[str, dict] = {}
        self.lines = 0  # lines in the file: more than rows when a recomputed row replaced a cached one
        if path.is_file():
            for line in path.read_text().splitlines():
                if line.strip():
                    row = json.loads(line)
                    self.rows[row["key"]] = row  # a later line of the same key replaces the earlier
                    self.lines += 1

    def get(self, key: str) -> dict | None:
        return self.rows.get(key)

    def add(self, row: dict) -> None:
        self.rows[row["key"]] = row
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as stream:  # one line per result: a killed run loses at most one image
            stream.write(json.dumps(row, sort_keys=True) + "\n")
        self.lines += 1

    def prune(self, current: Mapping[str, str]) -> int:
        """Drop the rows of superseded versions of the given methods; returns how many rows were dropped.

        ``current`` maps a method name to its key now. A row goes when its method is named there under a
        different key (e.g. an older ``denoise-colour.pt``); rows of methods not named are kept. The file is
        rewritten atomically (a process killed midway leaves the old file), also when only lines replaced by a
        recomputed row are to go.
        """
        kept = {
            key: row
            for key, row in self.rows.items()
            if row["method"] not in current or method_key_of(key) == current[row["method"]]
        }
        dropped = len(self.rows) - len(kept)
        if dropped or self.lines != len(self.rows):
            self.rows, self.lines = kept, len(kept)
            atomic_write_text(self.path, "".join(json.dumps(row, sort_keys=True) + "\n" for row in kept.values()))
        return dropped

    def compact(self) -> None:
        """Rewrite the file without the lines that recomputed rows replaced (no row is dropped)."""
        self.prune({})
