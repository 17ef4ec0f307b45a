"""``TrainingProgress``: the run's total steps and the time it still needs, printed as it trains.

Lightning's progress bar counts the steps of one epoch; a long run wants the whole: at the start, the steps
this run will train (from its first step to ``max_steps``), then every ``every`` steps a line such as

    step 153400 of 155600 (39%), 0.42 steps/s, about 1 h 27 min left

The rate is the run's own since its first step, validation included, so the estimate holds for the rest of
the run; with ``max_time`` set, the time left is the earlier of the two ends.
"""

from __future__ import annotations

import sys
import time

import lightning as L
from lightning.pytorch.callbacks import Timer
from lightning.pytorch.utilities import rank_zero_only


def duration(seconds: float) -> str:
    """``2 h 05 min``, ``7 min``, ``40 s``."""
    seconds = max(int(round(seconds)), 0)
    hours, rest = divmod(seconds, 3600)
    if hours:
        return f"{hours} h {rest // 60:02d} min"
    return f"{rest // 60} min" if rest >= 60 else f"{rest} s"


def progress_line(step: int, last: int, first: int, elapsed: float, time_left: float | None = None) -> str:
    """The line for global ``step`` of a run from ``first`` to ``last`` that has run ``elapsed`` seconds.

    ``time_left``: seconds until ``max_time`` stops the run, if it has one.
    """
    done, total = step - first, max(last - first, 1)
    rate = done / elapsed if elapsed > 0 else 0.0
    remaining = (last - step) / rate if rate > 0 else float("inf")
    if time_left is not None:
        remaining = min(remaining, time_left)
    estimate = duration(remaining) if remaining != float("inf") else "unknown"
    return f"step {step} of {last} ({done / total:.0%}), {rate:.2f} steps/s, about {estimate} left"


class TrainingProgress(L.Callback):
    """Print the run's total steps at its start and its progress with the time left every ``every`` steps."""

    def __init__(self, every: int = 100) -> None:
        self.every = every
        self._start: float | None = None
        self._first = 0

    @staticmethod
    def _offset(module: L.LightningModule) -> int:
        return int(getattr(module, "step_offset", 0))  # steps before a warm start count in the shown step

    def _last(self, trainer: L.Trainer, module: L.LightningModule) -> int | None:
        limit = trainer.max_steps
        return limit + self._offset(module) if limit and limit > 0 else None

    @rank_zero_only
    def on_train_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._start = time.monotonic()
        self._first = trainer.global_step + self._offset(module)
        last = self._last(trainer, module)
        if last is not None:
            print(
                f"training {last - self._first} steps: from step {self._first} to {last}", file=sys.stderr, flush=True
            )

    @rank_zero_only
    def on_train_batch_end(self, trainer: L.Trainer, module: L.LightningModule, *args) -> None:
        step = trainer.global_step + self._offset(module)
        last = self._last(trainer, module)
        if self._start is None or last is None or step % self.every:
            return
        elapsed = time.monotonic() - self._start
        timer = next((callback for callback in trainer.callbacks if isinstance(callback, Timer)), None)
        time_left = timer.time_remaining() if timer is not None else None  # the stop ``max_time`` will make
        print(progress_line(step, last, self._first, elapsed, time_left), file=sys.stderr, flush=True)
