"""Writing a study's results: a Markdown table (written atomically and echoed) and its rows as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from denoise.utils.files import atomic_write_text


def publish(path: Path, lines: list[str]) -> None:
    """Write ``lines`` as the Markdown file ``path`` (atomically) and print them."""
    text = "\n".join(lines) + "\n"
    atomic_write_text(path, text)
    print(text, end="")


def write_csv(path: Path, header: list[str], rows: Iterable[Iterable]) -> None:
    """Write ``rows`` under ``header`` as the CSV file ``path`` (atomically)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())
