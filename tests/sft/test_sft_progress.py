"""SFT progress: one line per quarter in a log file, redrawn in place on a terminal, nothing
from ranks other than the main one, and never the Trainer's raw log dicts."""

from __future__ import annotations

import io

from transformers import TrainerState

from dart.sft.progress import SftProgress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def drive(progress: SftProgress, steps: int, *, main: bool = True) -> None:
    state = TrainerState(max_steps=steps, is_world_process_zero=main)
    progress.on_train_begin(None, state, None)
    for step in range(1, steps + 1):
        state.global_step = step
        progress.on_log(None, state, None, logs={"loss": 1.0 / step, "grad_norm": 3.0})
        progress.on_step_end(None, state, None)
    progress.on_train_end(None, state, None)


def test_a_log_file_gets_a_line_per_quarter_with_loss_and_eta():
    stream = io.StringIO()
    drive(SftProgress("sft dart/seed-0", stream), 8)
    lines = stream.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == [
        f"sft dart/seed-0: step {n}/8" for n in (2, 4, 6, 8)]
    assert "loss 0.125" in lines[-1] and lines[-1].endswith("ETA 0s")
    assert "grad_norm" not in stream.getvalue()


def test_a_terminal_line_is_redrawn_in_place_and_ended_once():
    stream = Terminal()
    drive(SftProgress("sft", stream), 3)
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1


def test_other_ranks_print_nothing():
    stream = io.StringIO()
    drive(SftProgress("sft", stream), 4, main=False)
    assert stream.getvalue() == ""
