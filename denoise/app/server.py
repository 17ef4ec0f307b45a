"""``denoise app [--port 7860]``: a local web page to denoise photos, served on 127.0.0.1 only.

Drop or choose images, pick the mode (automatic, or Gaussian with a sigma), set the strength, compare before
and after at 100 % pixels, download the full-resolution result. Each image goes through
:func:`denoise.infer.denoise_image_file`, the command line's own path, so the downloaded file is the same
bytes ``python -m denoise.infer`` writes with the same settings (bit depth, alpha, ICC profile kept).

Nothing leaves the machine: the page loads no outside resource, the server listens on the loopback address
only, and uploads live in one temporary folder that is removed when the server stops. The server is the
standard library's: the page needs no framework (see the README for why not Gradio).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np

from denoise.checkpoint import CheckpointError
from denoise.denoiser import Denoiser
from denoise.infer import denoise_image_file
from denoise.io import READ_SUFFIXES, ImageData, ImageFileError, read_image, write_image
from denoise.sigma import NoiseLevel, parse_strength
from denoise.transforms.dihedral import ENSEMBLE_SIZES

HOST = "127.0.0.1"
DEFAULT_PORT = 7860
MAX_UPLOAD_BYTES = 512 * 2**20
MAX_PIXELS = 100_000_000  # 100 MP: far above a camera's, below what would exhaust memory
_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class RequestError(ValueError):
    """A request the page can fix; its message is shown on the page."""


@dataclass
class Job:
    """One uploaded image and its latest denoising."""

    folder: Path
    source: Path
    shape: tuple[int, ...]  # the image's H x W [x C], read once at upload
    state: str = "ready"  # ready, running, done, failed
    error: str | None = None
    tiles_done: int = 0
    tiles_total: int | None = None
    estimated: float | None = None
    result: Path | None = None
    settings: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def status(self) -> dict:
        return {
            "state": self.state,
            "error": self.error,
            "tiles_done": self.tiles_done,
            "tiles_total": self.tiles_total,
            "estimated_sigma": self.estimated,
            "settings": self.settings,
            "download_name": self.result.name if self.result else None,
        }


def safe_name(name: str) -> str:
    """A file name of letters, digits, dots, dashes and underscores, with a readable image suffix."""
    cleaned = _NAME.sub("_", Path(name).name).strip("._") or "image"
    if Path(cleaned).suffix.lower() not in READ_SUFFIXES:
        raise RequestError(f"{name}: not an image file this tool reads ({', '.join(READ_SUFFIXES)})")
    return cleaned


def parse_settings(query: dict[str, list[str]]) -> tuple[NoiseLevel | None, float, int | None, dict]:
    """(the level, or None for the automatic mode; the strength; the passes averaged, or None for the mode's
    default, as ``--ensemble``; the settings as given) from a query string."""
    mode = query.get("mode", ["auto"])[0]
    passes = query.get("ensemble", [""])[0]
    if passes and passes not in {str(size) for size in ENSEMBLE_SIZES}:
        choices = ", ".join(map(str, ENSEMBLE_SIZES))
        raise RequestError(f"ensemble must be {choices} passes, or left out for the mode's default; got {passes!r}")
    ensemble = int(passes) if passes else None
    try:
        strength = parse_strength(query.get("strength", ["1"])[0])
        settings = {"mode": mode, "strength": strength, "ensemble": ensemble}
        if mode == "auto":
            return None, strength, ensemble, settings
        if mode != "gaussian":
            raise RequestError(f"unknown mode {mode!r}: choose auto or gaussian")
        sigma = float(query.get("sigma", ["nan"])[0])
        return NoiseLevel.of(sigma, strength=strength), strength, ensemble, {**settings, "sigma": sigma}
    except ValueError as error:
        raise RequestError(str(error)) from None


class App:
    """The jobs of one server and the denoiser they share."""

    def __init__(self, denoiser: Denoiser, workspace: Path) -> None:
        self.denoiser = denoiser
        self.workspace = workspace
        self.jobs: dict[str, Job] = {}

    def add(self, name: str, data: bytes) -> str:
        """Store an upload as a new job; refuses what is not a readable image or is too large."""
        job_id, file_name = uuid.uuid4().hex, safe_name(name)
        folder = self.workspace / job_id
        folder.mkdir()
        source = folder / file_name
        source.write_bytes(data)
        try:
            image = read_image(source)
        except ImageFileError as error:
            shutil.rmtree(folder)
            raise RequestError(str(error).replace(str(source), name)) from None
        height, width = image.pixels.shape[:2]
        if height * width > MAX_PIXELS:
            shutil.rmtree(folder)
            raise RequestError(f"{name} is {width}x{height}, above the limit of {MAX_PIXELS // 10**6} megapixels")
        self.jobs[job_id] = Job(folder, source, image.pixels.shape)
        return job_id

    def job(self, job_id: str) -> Job:
        if job_id not in self.jobs:
            raise RequestError(f"no image {job_id!r} on this server (it may have been restarted): upload it again")
        return self.jobs[job_id]

    def start(self, job_id: str, query: dict[str, list[str]]) -> None:
        """Denoise a job's image in the background with the settings of ``query``."""
        job = self.job(job_id)
        level, strength, ensemble, settings = parse_settings(query)
        with job.lock:
            if job.state == "running":
                raise RequestError("this image is being denoised already: wait for it to finish")
            job.state, job.error, job.tiles_done, job.estimated, job.settings = "running", None, 0, None, settings
            job.tiles_total = self.denoiser.tile_count(job.shape, blind=level is None)
        threading.Thread(target=self._run, args=(job, level, strength, ensemble), daemon=True).start()

    def _run(self, job: Job, level: NoiseLevel | None, strength: float, ensemble: int | None) -> None:
        target = job.folder / "out" / f"{job.source.stem}_denoised{job.source.suffix}"
        target.parent.mkdir(exist_ok=True)

        def tick(count: int) -> None:
            job.tiles_done += count

        def estimated(sigma: float) -> None:
            job.estimated = sigma

        try:
            denoise_image_file(self.denoiser, job.source, target, level, None, strength, ensemble, tick, estimated)
            job.result, job.state = target, "done"
        except (ImageFileError, ValueError) as error:
            job.error, job.state = str(error).replace(str(job.folder) + "/", ""), "failed"

    def preview(self, job_id: str, which: str) -> bytes:
        """An 8-bit PNG of the job's input (``before``) or result (``after``), for the browser to show."""
        job = self.job(job_id)
        path = job.source if which == "before" else job.result
        if path is None:
            raise RequestError("no result yet: denoise the image first")
        image = read_image(path)
        pixels = image.pixels
        if pixels.dtype != np.uint8:
            pixels = np.round(pixels / 257.0).astype(np.uint8)
        preview = job.folder / f"preview_{which}.png"
        write_image(preview, ImageData(pixels))
        return preview.read_bytes()


def _page() -> bytes:
    return resources.files("denoise.app").joinpath("page.html").read_bytes()


def make_handler(app: App) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "denoise"

        def log_message(self, *args) -> None:  # quiet: the page is the interface
            pass

        def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, payload: dict, status: int = HTTPStatus.OK) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json")

        def _route(self, method: str) -> None:
            url = urlparse(self.path)
            parts = [part for part in url.path.split("/") if part]
            query = parse_qs(url.query)
            try:
                if method == "GET" and not parts:
                    self._send(HTTPStatus.OK, _page(), "text/html; charset=utf-8")
                elif method == "POST" and parts == ["api", "images"]:
                    length = int(self.headers.get("Content-Length") or 0)
                    if length > MAX_UPLOAD_BYTES:
                        raise RequestError(f"the file is over {MAX_UPLOAD_BYTES // 2**20} MB")
                    name = self.headers.get("X-Filename") or "image.png"
                    self._json({"id": app.add(name, self.rfile.read(length))})
                elif method == "POST" and len(parts) == 4 and parts[:2] == ["api", "images"] and parts[3] == "denoise":
                    app.start(parts[2], query)
                    self._json(app.job(parts[2]).status())
                elif method == "GET" and len(parts) == 3 and parts[:2] == ["api", "images"]:
                    self._json(app.job(parts[2]).status())
                elif method == "GET" and len(parts) == 4 and parts[3] in ("before", "after"):
                    self._send(HTTPStatus.OK, app.preview(parts[2], parts[3]), "image/png")
                elif method == "GET" and len(parts) == 4 and parts[3] == "download":
                    job = app.job(parts[2])
                    if job.result is None:
                        raise RequestError("no result yet: denoise the image first")
                    disposition = f'attachment; filename="{job.result.name}"'
                    body = job.result.read_bytes()
                    self._send(HTTPStatus.OK, body, "application/octet-stream", {"Content-Disposition": disposition})
                else:
                    self._json({"error": f"no such page: {url.path}"}, HTTPStatus.NOT_FOUND)
            except RequestError as error:
                self._json({"error": str(error)}, HTTPStatus.BAD_REQUEST)

        def do_GET(self) -> None:  # noqa: N802 (http.server naming)
            self._route("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._route("POST")

    return Handler


def make_server(app: App, port: int = DEFAULT_PORT) -> ThreadingHTTPServer:
    """The HTTP server of ``app`` on the loopback address (port 0: any free port)."""
    server = ThreadingHTTPServer((HOST, port), make_handler(app))
    server.daemon_threads = True
    return server


def serve(denoiser: Denoiser, port: int = DEFAULT_PORT) -> None:
    """Serve until Ctrl+C or SIGTERM; the temporary folder of the uploads is removed on the way out."""
    with tempfile.TemporaryDirectory(prefix="denoise-app-") as workspace:
        server = make_server(App(denoiser, Path(workspace)), port)

        def stop(signum, frame) -> None:  # also where SIGINT was ignored (a background job): stop cleanly
            threading.Thread(target=server.shutdown, daemon=True).start()

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, stop)
        print(f"denoise app: open http://{HOST}:{server.server_address[1]}/ (Ctrl+C stops it)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="denoise app", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--checkpoint", type=Path, help="a denoise checkpoint (default: the shipped models)")
    args = parser.parse_args(argv)
    try:
        denoiser = Denoiser.from_checkpoint(str(args.checkpoint) if args.checkpoint else None)
    except CheckpointError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        serve(denoiser, args.port)
    except OSError as error:
        print(f"error: cannot listen on {HOST}:{args.port} ({error.strerror}); choose another --port", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
