"""Checks of a spec against the models it names, where they are folders on this machine.

The schema cannot know a model's context length or layer names; a local model folder's
`config.json` tells both, so `dart validate` (and every command that reads a spec file)
refuses a `maxNewTokens` past the context or a LoRA target the architecture lacks before any
server or DeepSpeed engine starts. Remote models (hf://, pvc:// off-cluster) are not read.
"""

from __future__ import annotations

import json
from pathlib import Path

from dart.config.limits import MAX_NEW_TOKENS
from dart.config.spec import DartRunSpec, ModelRef

# Linear layers peft can adapt, by `model_type`: the families DART is used with. A type not
# listed is not checked (peft's own error then names the missing modules).
_LLAMA_LIKE = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
LINEAR_MODULES: dict[str, tuple[str, ...]] = {
    **{t: _LLAMA_LIKE for t in ("llama", "qwen2", "qwen3", "mistral", "gemma", "gemma2",
                                 "gemma3_text", "olmo2", "granite")},
    "phi3": ("qkv_proj", "o_proj", "gate_up_proj", "down_proj"),
    "gpt2": ("c_attn", "c_proj", "c_fc"),
}
PEFT_SHORTHANDS = ("all-linear",)


def local_model_problems(spec: DartRunSpec) -> list[str]:
    """One line per way the spec does not fit a local model it names."""
    problems = []
    mapper_ref = spec.models.mapper.init or spec.models.target
    mapper = _local_config(mapper_ref)
    if mapper is not None:
        problems += _context_problems(spec, mapper, mapper_ref.uri)
        if spec.models.mapper.training == "lora":
            problems += _module_problems("spec.models.mapper.lora.targetModules",
                                         spec.models.mapper.lora.target_modules, mapper)
    target = _local_config(spec.models.target)
    if target is not None and spec.sft.training == "lora":
        problems += _module_problems("spec.sft.lora.targetModules",
                                     spec.sft.lora.target_modules, target)
    return problems


def _local_config(ref: ModelRef) -> dict | None:
    if ref.uri.startswith(("hf://", "pvc://", "s3://", "gs://")):
        return None
    path = Path(ref.uri).expanduser() / "config.json"
    try:
        config = json.loads(path.read_text()) if path.is_file() else None
    except (OSError, ValueError):  # the server's load reports an unreadable model
        return None
    return config if isinstance(config, dict) else None


def _context_problems(spec: DartRunSpec, config: dict, uri: str) -> list[str]:
    context = config.get("max_position_embeddings")
    if not isinstance(context, int) or context < 2:
        return []
    limit = min(MAX_NEW_TOKENS, context - 1)  # at least one prompt token must fit beside it
    if spec.learn.max_new_tokens <= limit:
        return []
    return [f"spec.learn.maxNewTokens: {spec.learn.max_new_tokens} is over {limit}, the most "
            f"the mapper {uri} (context {context} tokens) can generate; lower it"]


def _module_problems(field: str, names: list[str], config: dict) -> list[str]:
    known = LINEAR_MODULES.get(config.get("model_type", ""))
    if known is None:
        return []
    unknown = [n for n in names if n not in known and n not in PEFT_SHORTHANDS]
    if not unknown:
        return []
    return [f"{field}: {', '.join(map(repr, unknown))} not in a {config['model_type']} model; "
            f"choose from {', '.join(known + PEFT_SHORTHANDS)}"]
