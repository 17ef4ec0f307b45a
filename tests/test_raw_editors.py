"""The raw-editor check scores the render most repeats agree on, not one that went astray."""

from __future__ import annotations

import cv2
import numpy as np

from denoise_lab import raw_editors


def _fake_editor(monkeypatch, colours: list[tuple[int, int, int]], fail_at: int | None = None) -> None:
    """Make ``raw_editors.render`` write flat 8 x 6 JPEGs of the given colours in turn (or fail once)."""
    calls = iter(range(len(colours)))

    def render(editor, source, target) -> bool:
        index = next(calls)
        if index == fail_at:
            return False
        cv2.imwrite(str(target), np.full((8, 6, 3), colours[index], np.uint8))
        return True

    monkeypatch.setattr(raw_editors, "render", render)


def test_steady_render_keeps_the_majority_render(monkeypatch, tmp_path):
    usual, astray = (40, 90, 160), (160, 90, 40)
    _fake_editor(monkeypatch, [usual, astray, usual, usual, astray])
    image = raw_editors.steady_render("darktable", tmp_path / "in.dng", tmp_path / "out.jpg", repeats=5)
    assert image.shape == (8, 6, 3)
    np.testing.assert_allclose(image.reshape(-1, 3).mean(0), usual, atol=2)  # JPEG rounding only


def test_steady_render_reports_a_failed_render(monkeypatch, tmp_path):
    _fake_editor(monkeypatch, [(0, 0, 0)] * 3, fail_at=1)
    assert raw_editors.steady_render("darktable", tmp_path / "in.dng", tmp_path / "out.jpg", repeats=3) is None
