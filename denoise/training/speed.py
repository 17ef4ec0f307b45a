"""``TrainingSpeed``: how fast the training steps run, logged with the run and kept for a summary."""

from __future__ import annotations

import time
from typing import Any

import lightning as L
import torch


def _synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so a clock read means the steps before it are done."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class TrainingSpeed(L.Callback):
    """Time the training steps after the first ``skip`` (compiles, kernel searches, warm caches).

    Validation is left out of the clock. Every ``trainer.log_every_n_steps`` steps it logs, over the steps since
    its last log, ``train/steps_per_s`` and ``train/patch_mp_per_s`` (megapixels of training patches per
    second: steps/s times batch size times patch area), so a run's log shows its speed.

    Attributes:
        steps, seconds: timed steps and their wall seconds, over the whole run.
        patch_megapixels: megapixels of patches in the timed steps.
    """

    def __init__(self, skip: int = 10) -> None:
        self.skip = skip
        self.steps = 0
        self.seconds = 0.0
        self.patch_megapixels = 0.0
        self._mark: float | None = None  # clock at the start of the current timed window
        self._window = (0, 0.0)  # steps, patch megapixels in the current window

    def _close_window(self, device: torch.device) -> float:
        """Seconds of the current window (0 if none is open); closes it."""
        if self._mark is None:
            return 0.0
        _synchronize(device)
        seconds = time.perf_counter() - self._mark
        self._mark = None
        self.steps += self._window[0]
        self.patch_megapixels += self._window[1]
        self.seconds += seconds
        return seconds

    def _open_window(self, device: torch.device) -> None:
        _synchronize(device)
        self._mark = time.perf_counter()
        self._window = (0, 0.0)

    def on_train_batch_end(self, trainer: L.Trainer, module: L.LightningModule, outputs: Any, batch, index) -> None:
        step = trainer.global_step
        if step < self.skip:
            return
        if self._mark is None:  # the first timed window starts after the skipped steps (or after validation)
            self._open_window(module.device)
            return
        patches = batch.shape[0] * batch.shape[-2] * batch.shape[-1] / 1e6  # (B, C, P, P) patches on the device
        self._window = (self._window[0] + 1, self._window[1] + patches)
        if step % trainer.log_every_n_steps == 0:
            steps, megapixels = self._window
            seconds = self._close_window(module.device)
            module.log("train/steps_per_s", steps / seconds, batch_size=batch.shape[0])
            module.log("train/patch_mp_per_s", megapixels / seconds, batch_size=batch.shape[0])
            self._open_window(module.device)

    def on_validation_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._close_window(module.device)

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._close_window(module.device)

    @property
    def steps_per_second(self) -> float:
        """Timed steps per wall second over the run (0 before any step was timed)."""
        return self.steps / self.seconds if self.seconds else 0.0
