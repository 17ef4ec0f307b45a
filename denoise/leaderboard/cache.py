"""Per-image results, appended as JSON lines as soon as each is computed, so a re-run (or a run that was
stopped) computes only what is new. Key: method key, data set, image, sigma, seed."""

from __future__ import annotations

import json
from pathlib import Path


def cache_key(method_key: str, dataset: str, image: str, sigma: float, seed: int) -> str:
    return f"{method_key}|{dataset}|{image}|{sigma:g}|{seed}"


class ResultCache:
    """A JSON-lines file of result rows, indexed by :func:`cache_key`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: dict[str, dict] = {}
        if path.is_file():
            for line in path.read_text().splitlines():
                if line.strip():
                    row = json.loads(line)
                    self.rows[row["key"]] = row

    def get(self, key: str) -> dict | None:
        return self.rows.get(key)

    def add(self, row: dict) -> None:
        self.rows[row["key"]] = row
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as stream:  # one line per result: a killed run loses at most one image
            stream.write(json.dumps(row, sort_keys=True) + "\n")
