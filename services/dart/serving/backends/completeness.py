"""Prove a full checkpoint holds the tensors its config.json declares, before vLLM loads it.

The hf backend asks transformers which tensors were missing (hf_loading). For vLLM the same
proof is read off the safetensors headers: every decoder layer the config declares must have
tensors stored, and so must the token embeddings; a checkpoint that fails is refused and the
served weights are kept.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

LAYER = re.compile(r"\.layers\.(\d+)\.")


class IncompleteCheckpoint(ValueError):
    """A full checkpoint that does not hold every tensor its config declares."""


def stored_tensor_names(folder: Path) -> set[str]:
    from safetensors import safe_open

    names: set[str] = set()
    for file in sorted(folder.glob("*.safetensors")):
        with safe_open(str(file), framework="np") as handle:
            names.update(handle.keys())
    return names


def check_complete(folder: Path) -> None:
    """Raise IncompleteCheckpoint naming what is missing; return when every layer is there."""
    config = json.loads((folder / "config.json").read_text())
    names = stored_tensor_names(folder)
    layers = {int(m.group(1)) for name in names if (m := LAYER.search(name))}
    missing = [f"layer {i}" for i in range(int(config.get("num_hidden_layers", 0)))
               if i not in layers]
    if not any("embed_tokens" in name or "wte" in name for name in names):
        missing.insert(0, "the token embeddings")
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3
                                          else "")
        raise IncompleteCheckpoint(f"{folder} lacks the tensors of {shown} "
                                   "(the checkpoint is incomplete or does not match its "
                                   "config.json)")
