"""Greedy solutions from a model for a list of questions, batched (transformers)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from dart.prompts import target_prompt


def load_for_generation(model_path: str):
    """(model, tokenizer) ready for greedy batched generation, loaded once per model."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    tokenizer.padding_side = "left"  # generation continues at the right edge of every row
    model = AutoModelForCausalLM.from_pretrained(model_path).eval()
    model.to("cuda" if torch.cuda.is_available() else "cpu")
    return model, tokenizer


def solve(loaded, questions: list[str], *, max_new_tokens: int, batch_size: int,
          on_batch: Callable[[int], None] = lambda n: None) -> list[str]:
    """One greedy solution per question, in the target's chat template; `loaded` is what
    `load_for_generation` returns."""
    model, tokenizer = loaded
    answers = []
    for start in range(0, len(questions), batch_size):
        prompts = [target_prompt(tokenizer, q) for q in questions[start : start + batch_size]]
        answers += _generate(model, tokenizer, prompts, max_new_tokens, model.device)
        on_batch(len(prompts))
    return answers


@torch.no_grad()
def _generate(model, tokenizer, prompts: list[str], max_new_tokens: int, device) -> list[str]:
    batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    batch = {k: v.to(device) for k, v in batch.items()}
    output = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                            pad_token_id=tokenizer.pad_token_id)
    new_tokens = output[:, batch["input_ids"].shape[1] :]
    return tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
