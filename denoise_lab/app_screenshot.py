"""``python -m denoise_lab.app_screenshot``: the README's picture of the web app, taken in headless Chromium.

Serves the app with the shipped models on a free loopback port, uploads a noisy crop of scikit-image's
astronaut photo (sigma 25/255, seeded), denoises it in the automatic mode, sets the split at 40 % and saves a
screenshot to ``docs/images/app.png``. Needs Chromium, its driver and selenium (see ``denoise_lab.browser``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import skimage.data

from denoise import Denoiser
from denoise.app.server import App, make_server
from denoise.io import ImageData, write_image
from denoise_lab import browser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoise_lab.app_screenshot", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images/app.png"))
    args = parser.parse_args(argv)
    reason = browser.missing()
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        return 2
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    with tempfile.TemporaryDirectory() as folder:
        clean = skimage.data.astronaut()[20:340, 120:440].astype(np.float32) / 255
        noisy = clean + 25 / 255 * np.random.default_rng(0).standard_normal(clean.shape).astype(np.float32)
        source = Path(folder) / "astronaut_noisy.png"
        write_image(source, ImageData(np.round(np.clip(noisy, 0, 1) * 255).astype(np.uint8)))
        workspace = Path(folder) / "workspace"
        workspace.mkdir()
        server = make_server(App(Denoiser.from_checkpoint(None, device="cpu"), workspace), port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        driver = browser.chromium()
        try:
            driver.get(f"http://127.0.0.1:{server.server_address[1]}/")
            driver.find_element(By.ID, "files").send_keys(str(source))
            wait = WebDriverWait(driver, 120)
            wait.until(lambda d: not d.find_element(By.ID, "run").get_property("disabled"))
            driver.find_element(By.ID, "run").click()
            wait.until(expected_conditions.visibility_of_element_located((By.ID, "download")))
            driver.execute_script(
                "const e = document.getElementById('split'); e.value = 40; e.dispatchEvent(new Event('input'));"
            )
            wait.until(lambda d: d.execute_script("return document.getElementById('after').complete"))
            args.out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(args.out))
        finally:
            driver.quit()
            server.shutdown()
            server.server_close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
