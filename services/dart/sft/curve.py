"""Intermediate models of an SFT run, for the accuracy-against-steps and -tokens curves."""

from __future__ import annotations

import copy

from transformers import TrainerCallback


class CurveSaver(TrainerCallback):
    """Saves the model at `points` evenly spaced steps strictly inside the training; only
    the process that `writes` (rank 0 under torchrun) saves, every process records the step."""

    def __init__(self, points: int, save, writes: bool = True):
        self.points, self.save, self.at, self.saved = points, save, set(), []
        self.writes = writes

    def on_train_begin(self, args, state, control, **kwargs):
        total = state.max_steps
        self.at = {round(total * (j + 1) / (self.points + 1)) for j in range(self.points)}
        self.at = {s for s in self.at if 0 < s < total}

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step not in self.at:
            return
        if self.writes:
            # Merging a LoRA adapter is in place: merge a copy, keep training the original.
            merge_safe = copy.deepcopy(model) if hasattr(model, "merge_and_unload") else model
            self.save(merge_safe, state.global_step)
        self.saved.append(state.global_step)
