"""A trained model written as one loadable folder, shared by every stage that trains one
(sft, direct-rl): merged, saved with its tokenizer, marked done, renamed into place."""

from __future__ import annotations

from pathlib import Path

from dart.artifacts.files import atomic_folder


def save_model(model, tokenizer, final: Path) -> Path:
    """A LoRA-wrapped model is merged first, so every reader loads it by path alone.
    Duck-typed (`save_pretrained`), so this module imports no engine."""
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    with atomic_folder(final) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
    return final
