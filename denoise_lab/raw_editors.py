"""``python -m denoise_lab.raw_editors``: do raw editors open our DNGs as they open the original?

Writes a synthetic raw DNG of a photo at ``--iso`` (and the same raw without noise), denoises it with
``python -m denoise.infer in.dng -o out.dng``, and renders all three with each editor's command line found on
this machine (RawTherapee's ``rawtherapee-cli``, darktable's ``darktable-cli``) at its default settings. For
each editor: whether it opened each file, the size of its renders, and the PSNR of the noisy and the
denoised render against the clean one. Writes ``results/raw_editors.md``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from denoise.infer import main as infer
from denoise.metrics import psnr
from denoise_lab.bench_files import write_raw_file
from denoise_lab.tables import publish

# editor -> (its command-line program, the arguments that render SOURCE to the JPEG TARGET, its version flag)
EDITORS = {
    "RawTherapee": ("rawtherapee-cli", lambda source, target: ["-o", str(target), "-j95", "-Y", "-c", str(source)],
                    "-v"),
    "darktable": ("darktable-cli", lambda source, target: [str(source), str(target), "--core", "--library",
                                                           ":memory:", "--configdir", str(target.parent / "darktable")],
                  "--version"),
}  # fmt: skip
RENDERS = 5  # renders of each file per editor; their per-pixel median is scored


def render(editor: str, source: Path, target: Path) -> bool:
    """Render ``source`` to the JPEG ``target`` with ``editor``; whether it wrote one."""
    program, arguments, _ = EDITORS[editor]
    result = subprocess.run([program, *arguments(source, target)], capture_output=True, text=True, check=False)
    return result.returncode == 0 and target.is_file()


def steady_render(editor: str, source: Path, target: Path, repeats: int = RENDERS) -> np.ndarray | None:
    """The per-pixel median of ``repeats`` renders of ``source`` (uint8 H x W x 3, BGR), or None when a render
    failed or the renders differ in size.

    darktable 4.2.1's command line now and then renders a file with another white balance (seen here: one run
    in six, the same file and settings), so one render is not a measurement; the median of five is the render
    that at least three agree on.
    """
    images = []
    for index in range(repeats):
        attempt = target.with_name(f"{target.stem}_{index}{target.suffix}")
        if not render(editor, source, attempt):
            return None
        images.append(cv2.imread(str(attempt)))
    if len({image.shape for image in images}) != 1:
        return None
    return np.median(np.stack(images), axis=0).round().astype(np.uint8)


def version(editor: str) -> str:
    program, _, flag = EDITORS[editor]
    output = subprocess.run([program, flag], capture_output=True, text=True, check=False).stdout
    found = re.search(r"\d+(\.\d+)+", output)
    return f"{editor} {found.group(0)}" if found else editor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.raw_editors", description=__doc__.splitlines()[0])
    parser.add_argument("--iso", type=float, default=3200)
    parser.add_argument("--size", default="816x1224", help="mosaic height x width")
    parser.add_argument("--out", type=Path, default=Path("results/raw_editors.md"))
    args = parser.parse_args(argv)
    height, width = (int(value) for value in args.size.split("x"))
    found = [editor for editor, (program, _, _) in EDITORS.items() if shutil.which(program)]
    if not found:
        print("error: neither rawtherapee-cli nor darktable-cli is installed (Debian: apt-get install "
              "rawtherapee darktable)", file=sys.stderr)  # fmt: skip
        return 2
    lines = [
        f"Made by `python -m denoise_lab.raw_editors --iso {args.iso:g} --size {args.size}`: a synthetic raw DNG "
        f"({height} x {width}, RGGB, ISO {args.iso:g}) and its noise-free twin, the first denoised by "
        "`python -m denoise.infer in.dng -o out.dng`, all three rendered by each editor at its defaults, "
        f"{RENDERS} times each (the per-pixel median is kept: darktable's command line now and then renders a file "
        "with another white balance). PSNR of the editor's render against its render of the noise-free raw (8-bit "
        "JPEG).",
        "",
        "| editor | opened noisy / denoised / clean | render size | noisy PSNR | denoised PSNR |",
        "|---|---|---|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        noisy, clean, denoised = work / "noisy.dng", work / "clean.dng", work / "denoised.dng"
        write_raw_file(noisy, height, width, clean_path=clean, iso=args.iso)
        if infer([str(noisy), "-o", str(denoised), "-q"]) != 0:
            print("error: the CLI could not denoise the DNG", file=sys.stderr)
            return 2
        for editor in found:
            renders = {name: steady_render(editor, source, work / f"{editor}_{name}.jpg")
                       for name, source in (("noisy", noisy), ("denoised", denoised), ("clean", clean))}  # fmt: skip
            opened = {name: image is not None for name, image in renders.items()}
            images = {name: image for name, image in renders.items() if image is not None}
            shapes = {image.shape[:2] for image in images.values()}
            size = " / ".join(f"{w} x {h}" for h, w in sorted(shapes)) or "-"
            scores = [
                f"{psnr(images['clean'], images[name]):.2f}" if {name, "clean"} <= images.keys() and len(shapes) == 1
                else "-"
                for name in ("noisy", "denoised")
            ]  # fmt: skip
            flags = " / ".join("yes" if opened[name] else "no" for name in ("noisy", "denoised", "clean"))
            lines.append(f"| {version(editor)} | {flags} | {size} | {scores[0]} | {scores[1]} |")
    publish(args.out, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
