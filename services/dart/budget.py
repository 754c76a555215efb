"""The mapper's length budget (dart.data.length) with the mapper's own tokenizer and context
length: the half that loads them lives here, outside the core, which imports no engine."""

from __future__ import annotations

from dart.data.length import LengthBudget, length_budget


def mapper_budget(spec) -> LengthBudget:
    """The budget of a run's mapper (its init model, or the target it starts from)."""
    from transformers import AutoConfig, AutoTokenizer

    from dart.config.model_uri import mapper_source

    source = mapper_source(spec)[0]
    tokenizer = AutoTokenizer.from_pretrained(source.name_or_path, **source.kwargs())
    config = AutoConfig.from_pretrained(source.name_or_path, **source.kwargs())
    return length_budget(spec, tokenizer, getattr(config, "max_position_embeddings", None))
