"""Load weights for the `hf` backend and prove every expected tensor arrived.

transformers and peft fill any tensor a checkpoint lacks with fresh random values and only log
a warning, so a safetensors file without the model's tensors, or a config declaring more
layers than are stored, would load "fine" and serve noise under the new version tag. Here a
missing tensor is an error that names it, and the caller keeps its old weights.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModelForCausalLM


class IncompleteWeights(ValueError):
    """A checkpoint that does not hold every tensor the model needs."""


def load_causal_lm(path: str | Path, device: torch.device):
    """float32 on CPU (scores must match an in-process float32 computation), bf16 on GPU;
    every parameter must come from the checkpoint."""
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    model, info = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype,
                                                       output_loading_info=True)
    _refuse_missing(path, [*info.get("missing_keys", ()), *info.get("mismatched_keys", ())])
    return model.to(device).eval()


def apply_lora(base, path: Path):
    """`base` with the adapter at `path` merged in; every adapter tensor must be stored."""
    from peft import PeftConfig, PeftModel, load_peft_weights, set_peft_model_state_dict

    model = PeftModel(base, PeftConfig.from_pretrained(str(path)))
    result = set_peft_model_state_dict(model, load_peft_weights(str(path)))
    _refuse_missing(path, [k for k in result.missing_keys if "lora_" in k])
    # Merged, the adapter costs nothing per token and the snapshot is a plain model.
    return model.merge_and_unload().eval()


def _refuse_missing(path: str | Path, missing: list) -> None:
    if not missing:
        return
    names = [m if isinstance(m, str) else str(m[0]) for m in missing]
    shown = ", ".join(sorted(names)[:3]) + (f" and {len(names) - 3} more" if len(names) > 3
                                            else "")
    raise IncompleteWeights(f"{path} lacks {len(names)} of the model's tensors ({shown}); "
                            "the checkpoint is incomplete or does not match its config.json")
