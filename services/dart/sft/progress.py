"""SFT progress for a person: one line per run (step, steps, ETA, loss), redrawn in place on a
terminal, or printed at every quarter of the run when stderr is a file (CI, pod logs).

It replaces the Trainer's own printer, which writes every log dict to stdout. SftMetrics
hands the same log dicts (loss, learning rate, grad norm, the final train_loss) to the
experiment tracker (`spec.tracking`)."""

from __future__ import annotations

import sys
import time

from transformers import TrainerCallback

from dart import tracking

QUARTERS = 4


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


class SftProgress(TrainerCallback):
    """Shows `label: step i/N, loss L, ETA t` from the main process only."""

    def __init__(self, label: str, stream=None):
        self.label, self.stream = label, stream or sys.stderr
        self.tty = self.stream.isatty()
        self.loss: float | None = None
        self.started = time.monotonic()

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.monotonic()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.loss = float(logs["loss"])

    def on_step_end(self, args, state, control, **kwargs):
        done, total = state.global_step, max(state.max_steps, 1)
        if not state.is_world_process_zero or not self._due(done, total):
            return
        elapsed = time.monotonic() - self.started
        line = f"{self.label}: step {done}/{total}"
        if self.loss is not None:
            line += f", loss {self.loss:.3f}"
        line += f", ETA {_duration(elapsed / done * (total - done))}"
        print(f"\r{line}\033[K" if self.tty else line, end="" if self.tty else "\n",
              file=self.stream, flush=True)

    def on_train_end(self, args, state, control, **kwargs):
        if self.tty and state.is_world_process_zero:
            print(file=self.stream, flush=True)

    def _due(self, done: int, total: int) -> bool:
        if self.tty:
            return True
        marks = {round(total * q / QUARTERS) for q in range(1, QUARTERS + 1)}
        return done in marks


class SftMetrics(TrainerCallback):
    """Every Trainer log dict to the tracker as `<prefix><name>` at its global step, from
    the main process only (the Trainer logs on every rank)."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and state.is_world_process_zero:
            tracking.report(logs, step=state.global_step, prefix=self.prefix)
