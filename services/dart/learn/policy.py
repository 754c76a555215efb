"""The mapper being trained: a causal LM (LoRA by default) inside a DeepSpeed engine.

DeepSpeed runs the update everywhere, CPU included (one process over gloo), so CI exercises
the same code path as a GPU cluster; ZeRO stage and bf16 come from the spec. Under torchrun
or the DeepSpeed launcher the usual RANK/WORLD_SIZE environment makes it data-parallel.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from dart.config.model_uri import ModelSource
from dart.config.spec import Learn, MapperModel
from dart.errors import UserError
from dart.learn import ranks


@dataclass
class Policy:
    engine: object  # deepspeed.DeepSpeedEngine
    tokenizer: object
    lora: bool
    reference: torch.nn.Module | None  # frozen initial weights, full fine-tuning with KL only

    @property
    def module(self) -> torch.nn.Module:
        return self.engine.module


def _use_bf16(learn: Learn) -> bool:
    if learn.precision == "auto":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return learn.precision == "bf16"


def deepspeed_config(learn: Learn, rollouts_per_rank: int) -> dict:
    """DeepSpeed averages the ranks' gradients; each rank's loss is the mean over its equal
    share of the step's rollouts, so the average is the whole batch's loss, whatever the
    number of ranks."""
    return {
        "train_micro_batch_size_per_gpu": rollouts_per_rank,
        "gradient_accumulation_steps": 1,
        "gradient_clipping": 1.0,
        "zero_optimization": {"stage": learn.zero_stage},
        "bf16": {"enabled": _use_bf16(learn)},
        "steps_per_print": 10**9,  # progress is ours to report
    }


def _load_model(source: ModelSource, mapper: MapperModel) -> torch.nn.Module:
    model = AutoModelForCausalLM.from_pretrained(source.name_or_path, **source.kwargs())
    if mapper.training == "full":
        return model
    lora = mapper.lora
    config = LoraConfig(r=lora.rank, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                        target_modules=list(lora.target_modules), task_type="CAUSAL_LM")
    try:
        return get_peft_model(model, config)
    except ValueError as error:  # peft: "Target modules {...} not found in the base model"
        detail = (str(error).strip().splitlines() or ["refused by peft"])[0]
        raise UserError(f"spec.models.mapper.lora.targetModules: {detail}") from None


def build_policy(source: ModelSource, mapper: MapperModel, learn: Learn) -> Policy:
    """Load the mapper, wrap it for training, and hand it to DeepSpeed."""
    import deepspeed

    ranks.init_process_group()
    torch.manual_seed(learn.seed)
    tokenizer = AutoTokenizer.from_pretrained(source.name_or_path, **source.kwargs())
    model = _load_model(source, mapper)
    reference = None
    if mapper.training == "full" and learn.kl_coef > 0:
        reference = copy.deepcopy(model).eval().requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=learn.learning_rate, weight_decay=0.0)
    rollouts = learn.batch_size * learn.group_size
    config = deepspeed_config(learn, rollouts // ranks.world_size())
    engine, *_ = deepspeed.initialize(model=model, optimizer=optimizer, config=config,
                                      model_parameters=trainable)
    return Policy(engine, tokenizer, mapper.training == "lora", reference)


def reference_context(policy: Policy):
    """Run the initial mapper: with LoRA, the same model with its adapter switched off."""
    return policy.module.disable_adapter() if policy.lora else contextlib.nullcontext()


def reference_model(policy: Policy) -> torch.nn.Module:
    return policy.module if policy.lora else policy.reference


def gathered_weights(policy: Policy):
    """Under ZeRO-3 each rank holds a shard of every parameter: gather the ones that are
    saved (the adapter with LoRA, all with full training) for the duration of a save.
    Collective: every rank enters it. Other stages keep whole parameters on every rank."""
    if policy.engine.zero_optimization_stage() != 3:
        return contextlib.nullcontext()
    import deepspeed

    module = policy.module
    saved = [p for p in module.parameters() if p.requires_grad] if policy.lora \
        else list(module.parameters())
    return deepspeed.zero.GatheredParameters(saved, modifier_rank=None)


def save_weights(policy: Policy, out_dir: Path) -> str:
    """Write what the generator loads: the adapter alone (LoRA) or the full model + tokenizer."""
    module = policy.module
    module.save_pretrained(out_dir)
    if not isinstance(module, PeftModel):
        policy.tokenizer.save_pretrained(out_dir)
        return "full"
    return "lora"
