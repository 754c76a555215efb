"""Build a tiny, randomly initialised Llama-style model and its tokenizer, saved like a real one.

    from dart.models.tiny import build_tiny_model
    path = build_tiny_model(Path("tiny-models/target"))   # < 2 s, ~1M parameters
    AutoModelForCausalLM.from_pretrained(path); AutoTokenizer.from_pretrained(path)

The layer names are Llama's (q_proj, k_proj, v_proj, o_proj, gate/up/down_proj), so peft's
default LoRA targets, TRL and vLLM treat it like any Llama checkpoint loaded by path.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import torch
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

from dart.models.tokenizer import MODEL_MAX_LENGTH, train_tokenizer

# hidden, intermediate, layers, attention heads, key/value heads. head_dim 32 is supported
# by vLLM's CPU and GPU attention backends.
SIZES: dict[str, tuple[int, int, int, int, int]] = {
    "target": (128, 384, 4, 4, 2),   # ~0.85M parameters
    "mapper": (128, 384, 4, 4, 2),   # the mapper starts from the target, so the same shape
    "small": (256, 768, 6, 8, 4),    # ~6M, for GPU demos
}


def tiny_config(size: str, vocab_size: int, eos_id: int, pad_id: int) -> LlamaConfig:
    """The Llama configuration of a named size."""
    if size not in SIZES:
        raise ValueError(f"unknown tiny model size {size!r}; choose one of: {', '.join(SIZES)}")
    hidden, intermediate, layers, heads, kv_heads = SIZES[size]
    return LlamaConfig(
        vocab_size=vocab_size, hidden_size=hidden, intermediate_size=intermediate,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
        max_position_embeddings=MODEL_MAX_LENGTH, tie_word_embeddings=True,
        bos_token_id=None, eos_token_id=eos_id, pad_token_id=pad_id,
    )


def build_tiny_model(out_dir: Path, *, size: str = "target", seed: int = 0) -> Path:
    """Train the tokenizer, initialise the model from `seed`, save both to `out_dir`.

    The folder is written next to its destination and renamed into place, so a reader never
    sees half a model; an existing folder is replaced.
    """
    out_dir = Path(out_dir)
    tokenizer = train_tokenizer()
    config = tiny_config(size, len(tokenizer), tokenizer.eos_token_id, tokenizer.pad_token_id)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    with staging_dir(out_dir) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
    return out_dir


class staging_dir:
    """A sibling temp folder that replaces `target` on success and vanishes on failure."""

    def __init__(self, target: Path):
        self.target = target

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", dir=self.target.parent))
        return self.path

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        if self.target.exists():
            shutil.rmtree(self.target)
        self.path.rename(self.target)
