"""How the scorer turns (prompt, completion) into tokens: the ONE place this formatting lives.

The target is scored in its own chat template via `dart.prompts` (the canonical target
formatting shared with SFT and evaluation): the prompt is the user turn, the completion the
assistant turn, and only the assistant turn's tokens are scored, end-of-turn token included.
"""

from __future__ import annotations

from typing import Any

from dart.prompts import target_prompt_and_completion


def chat_score_tokens(tokenizer: Any, prompt: str, completion: str) -> tuple[list[int], int]:
    """Token ids of the whole conversation and the index where the assistant turn starts.

    The conversation is tokenized as one text, as the target reads it; if a BPE merge crosses
    the turn boundary (then the prompt's tokens are no prefix), each part is tokenized alone.
    """
    prompt_text, completion_text = target_prompt_and_completion(tokenizer, prompt, completion)
    prompt_ids = _ids(tokenizer, prompt_text)
    full_ids = _ids(tokenizer, prompt_text + completion_text)
    if full_ids[: len(prompt_ids)] != prompt_ids:
        full_ids = prompt_ids + _ids(tokenizer, completion_text)
    return full_ids, len(prompt_ids)


def _ids(tokenizer: Any, text: str) -> list[int]:
    # The template writes any BOS itself: the tokenizer must not add another.
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])
