"""A plain supervised loop for the tiny models: (prompt, completion) pairs, loss on completions.

Plain torch rather than a trainer framework: it starts in a second (TRL's import alone costs
~9 s), runs on 2 threads, and the whole recipe reads top to bottom.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import torch

IGNORE = -100
Pair = tuple[str, str]


def encode_pair(tokenizer, prompt: str, completion: str) -> tuple[list[int], list[int]]:
    """Token ids of prompt + completion and labels that mask the prompt (loss on the reply)."""
    prompt_ids = tokenizer(prompt, add_special_tokens=False).input_ids
    completion_ids = tokenizer(completion, add_special_tokens=False).input_ids
    return prompt_ids + completion_ids, [IGNORE] * len(prompt_ids) + completion_ids


def collate(encoded: Sequence[tuple[list[int], list[int]]], pad_id: int) -> dict:
    """Right-pad a batch and mask the padding out of the loss.

    No attention mask: with right padding and causal attention no real token ever attends
    to a pad, and an explicit mask sends torch's SDPA down a path several times slower on CPU.
    """
    width = max(len(ids) for ids, _ in encoded)
    ids = [i + [pad_id] * (width - len(i)) for i, _ in encoded]
    labels = [lab + [IGNORE] * (width - len(lab)) for _, lab in encoded]
    return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels)}


def lr_at(step: int, steps: int, peak: float, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train_on_pairs(
    model, tokenizer, pairs: Sequence[Pair], *, steps: int, batch_size: int, lr: float,
    seed: int, on_step: Callable[[int, float], None] | None = None,
) -> None:
    """Train `model` in place for `steps` AdamW steps on batches of similar-length `pairs`."""
    batches = LengthBuckets([encode_pair(tokenizer, p, c) for p, c in pairs], batch_size, seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, steps, lr, warmup=max(1, steps // 20))
        loss = model(**collate(batches.sample(), tokenizer.pad_token_id)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if on_step is not None:
            on_step(step, loss.item())
    model.eval()


class LengthBuckets:
    """Random batches of examples of similar length: padding is compute on CPU, and the
    task's examples come in a few lengths (one or two operations)."""

    def __init__(self, encoded: Sequence, batch_size: int, seed: int, width: int = 24):
        self.rng, self.batch_size = random.Random(seed), batch_size
        buckets: dict[int, list] = {}
        for example in encoded:
            buckets.setdefault(len(example[0]) // width, []).append(example)
        self.buckets = [b for _, b in sorted(buckets.items())]
        self.weights = [len(b) for b in self.buckets]

    def sample(self) -> list:
        bucket = self.rng.choices(self.buckets, weights=self.weights)[0]
        return self.rng.sample(bucket, min(self.batch_size, len(bucket)))
