"""The local web app: the same bytes as the CLI, clear errors that keep it running, and a real browser."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from denoise import Denoiser
from denoise.app import server as app_server
from denoise.app.server import App, make_server
from denoise.infer import main as infer_main
from denoise.io import ImageData, write_image
from denoise_lab import browser
from tests.helpers import photo, random_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return random_checkpoint(tmp_path_factory.mktemp("ckpt") / "random.pt")


@pytest.fixture
def running(tmp_path, checkpoint):
    """A served app on a free port: (base URL, its workspace folder)."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    server = make_server(App(Denoiser.from_checkpoint(str(checkpoint), device="cpu"), workspace), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", workspace
    server.shutdown()
    server.server_close()


def _call(method: str, url: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _upload(base: str, path: Path) -> str:
    status, body = _call("POST", f"{base}/api/images", path.read_bytes(), {"X-Filename": path.name})
    assert status == 200, body
    return json.loads(body)["id"]


def _denoise(base: str, image: str, query: str) -> dict:
    status, body = _call("POST", f"{base}/api/images/{image}/denoise?{query}")
    assert status == 200, body
    for _ in range(600):
        state = json.loads(_call("GET", f"{base}/api/images/{image}")[1])
        if state["state"] in ("done", "failed"):
            return state
        time.sleep(0.05)
    raise AssertionError("the denoising did not finish")


def _cli(source: Path, target: Path, checkpoint: Path, *options: str) -> bytes:
    assert infer_main([str(source), "--checkpoint", str(checkpoint), "-o", str(target), "--quiet", *options]) == 0
    return target.read_bytes()


@pytest.mark.parametrize("suffix, dtype", [(".png", np.uint16), (".tif", np.uint8)])
def test_the_download_is_the_clis_file_byte_for_byte(running, tmp_path, checkpoint, suffix, dtype):
    base, _ = running
    pixels = np.round(photo(70, 90) * np.iinfo(dtype).max).astype(dtype)
    source = tmp_path / f"photo{suffix}"
    write_image(source, ImageData(pixels, alpha=np.full(pixels.shape[:2], np.iinfo(dtype).max, dtype)))
    image = _upload(base, source)
    state = _denoise(base, image, "mode=gaussian&sigma=0.1&strength=1.2")
    assert state["state"] == "done" and state["download_name"] == f"photo_denoised{suffix}"
    assert state["tiles_done"] == state["tiles_total"] >= 1  # the page's progress bar fills up
    downloaded = _call("GET", f"{base}/api/images/{image}/download")[1]
    assert downloaded == _cli(source, tmp_path / f"cli{suffix}", checkpoint, "--sigma", "0.1", "--strength", "1.2")
    automatic = _denoise(base, image, "mode=auto&strength=1")
    assert automatic["estimated_sigma"] is not None  # the automatic mode shows its estimate
    downloaded = _call("GET", f"{base}/api/images/{image}/download")[1]
    assert downloaded == _cli(source, tmp_path / f"auto{suffix}", checkpoint)
    assert _denoise(base, image, "mode=auto&strength=1&ensemble=4")["settings"]["ensemble"] == 4
    downloaded = _call("GET", f"{base}/api/images/{image}/download")[1]
    assert downloaded == _cli(source, tmp_path / f"four{suffix}", checkpoint, "--ensemble", "4")
    status, preview = _call("GET", f"{base}/api/images/{image}/after")
    assert status == 200 and preview.startswith(b"\x89PNG")


def test_bad_input_is_a_message_and_the_server_keeps_running(running, tmp_path, monkeypatch):
    base, workspace = running
    (tmp_path / "notes.png").write_text("not an image")
    valid = tmp_path / "ok.png"
    write_image(valid, ImageData(np.round(photo(40, 40) * 255).astype(np.uint8)))
    (tmp_path / "cut.png").write_bytes(valid.read_bytes()[:100])
    cases = [
        (tmp_path / "notes.png", "not an image file"),
        (tmp_path / "cut.png", "corrupt or truncated"),
    ]
    for path, message in cases:
        status, body = _call("POST", f"{base}/api/images", path.read_bytes(), {"X-Filename": path.name})
        assert status == 400 and message in json.loads(body)["error"]
    status, body = _call("POST", f"{base}/api/images", b"x", {"X-Filename": "report.pdf"})
    assert status == 400 and "not an image file this tool reads" in json.loads(body)["error"]
    monkeypatch.setattr(app_server, "MAX_PIXELS", 1000)
    status, body = _call("POST", f"{base}/api/images", valid.read_bytes(), {"X-Filename": "ok.png"})
    assert status == 400 and "above the limit" in json.loads(body)["error"]
    monkeypatch.setattr(app_server, "MAX_PIXELS", 10**8)
    image = _upload(base, valid)  # still serving
    status, body = _call("POST", f"{base}/api/images/{image}/denoise?mode=gaussian&sigma=25")
    assert status == 400 and "for 25/255 use 0.0980" in json.loads(body)["error"]
    status, body = _call("POST", f"{base}/api/images/{image}/denoise?mode=auto&ensemble=3")
    assert status == 400 and "ensemble must be 1, 2, 4, 8 passes" in json.loads(body)["error"]
    status, body = _call("GET", f"{base}/api/images/nonesuch")
    assert status == 400 and "upload it again" in json.loads(body)["error"]
    assert _denoise(base, image, "mode=gaussian&sigma=0.05")["state"] == "done"
    # refused uploads leave nothing behind; the accepted one lives in the workspace only
    assert [path.name for path in workspace.iterdir()] == [image]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cut.png", "notes.png", "ok.png", "workspace"]


def test_the_page_loads_nothing_from_outside(running):
    base, _ = running
    status, page = _call("GET", f"{base}/")
    assert status == 200 and b"<title>denoise</title>" in page
    assert b"http://" not in page and b"https://" not in page  # no font, script or analytics from elsewhere


@pytest.mark.skipif(browser.missing() is not None, reason=str(browser.missing()))
def test_in_a_real_browser_upload_move_the_sliders_and_download(running, tmp_path, checkpoint):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    base, _ = running
    source = tmp_path / "noisy.png"
    clean = photo(96, 128)
    noisy = clean + 0.1 * np.random.default_rng(0).standard_normal(clean.shape).astype(np.float32)
    write_image(source, ImageData(np.round(np.clip(noisy, 0, 1) * 255).astype(np.uint8)))
    (tmp_path / "notes.png").write_text("not an image")
    driver = browser.chromium()
    try:
        driver.get(base + "/")
        driver.find_element(By.ID, "files").send_keys(str(tmp_path / "notes.png"))
        wait = WebDriverWait(driver, 60)
        wait.until(lambda d: "not an image file" in d.find_element(By.ID, "error").text)  # said on the page
        driver.find_element(By.ID, "files").send_keys(str(source))
        wait.until(lambda d: not d.find_element(By.ID, "run").get_property("disabled"))
        driver.find_element(By.CSS_SELECTOR, "input[name=mode][value=gaussian]").click()
        for slider, value in (("sigma", "30"), ("strength", "0.8"), ("split", "30")):  # moved as a user would
            driver.execute_script(
                "const e = document.getElementById(arguments[0]); e.value = arguments[1];"
                "e.dispatchEvent(new Event('input'));",
                slider,
                value,
            )
        assert "30.0/255 = 0.1176" in driver.find_element(By.ID, "sigma-text").text
        driver.find_element(By.ID, "run").click()
        wait.until(expected_conditions.visibility_of_element_located((By.ID, "download")))
        assert driver.find_element(By.ID, "state").text == "done"
        link = driver.find_element(By.ID, "download").get_attribute("href")
        downloaded = _call("GET", link)[1]
    finally:
        driver.quit()
    expected = _cli(source, tmp_path / "cli.png", checkpoint, "--sigma", repr(30 / 255), "--strength", "0.8")
    assert downloaded == expected


def test_the_command_serves_on_loopback_and_removes_its_uploads_when_stopped(tmp_path):
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    checkpoint = random_checkpoint(tmp_path / "random.pt")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "denoise.app.server", "--port", str(port), "--checkpoint", str(checkpoint)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        source = tmp_path / "in.png"
        write_image(source, ImageData(np.round(photo(40, 40) * 255).astype(np.uint8)))
        _upload(f"http://127.0.0.1:{port}", source)
        assert [path.name.startswith("denoise-app-") for path in tmp_path.iterdir() if path.is_dir()] == [True]
    finally:
        process.send_signal(signal.SIGTERM)  # how a service manager stops it (Ctrl+C takes the same path)
        process.wait(timeout=60)
    assert not [path for path in tmp_path.iterdir() if path.name.startswith("denoise-app-")]  # cleaned
