"""Fine-tune the target with TRL's SFTTrainer on (question, solution) rows.

Rows become prompt/completion pairs in the target's own chat template (dart.prompts), and the
loss covers the completion only: the target learns to write the solution, not the question.
Both arms of the A/B (adapted data vs original data) go through this one function with
identical settings. DeepSpeed is used on GPU when the spec asks for it; on CPU, plain torch.

Under torchrun the Trainer runs data-parallel (DDP; gloo on CPU): each process takes
`batchSize / processes` rows per step, so the global batch and the step count are the spec's
whatever the process count, and rank 0 alone writes the model, its DONE marker and the curve.

    torchrun --nproc-per-node 2 -m dart sft --config run.yaml --artifacts runs/a
"""

from __future__ import annotations

import os
from pathlib import Path

from dart.artifacts import SftPaths
from dart.artifacts.models import save_model
from dart.config.model_uri import ModelSource
from dart.config.spec import Sft
from dart.errors import UserError
from dart.prompts import target_prompt_and_completion
from dart.quiet import is_quiet


def sft_pairs(tokenizer, rows: list[dict]) -> list[dict]:
    pairs = []
    for row in rows:
        prompt, completion = target_prompt_and_completion(tokenizer, row["question"],
                                                          row["solution"])
        pairs.append({"prompt": prompt, "completion": completion})
    return pairs


def _trainer_config(sft: Sft, out_dir: Path, steps_hint: int):
    import torch
    from trl import SFTConfig

    return SFTConfig(
        output_dir=str(out_dir / "trainer"), num_train_epochs=sft.epochs,
        per_device_train_batch_size=per_process_batch(sft), learning_rate=sft.learning_rate,
        lr_scheduler_type="cosine", warmup_steps=max(steps_hint // 20, 1), seed=sft.seed,
        max_length=sft.max_seq_length, completion_only_loss=True, packing=False,
        bf16=torch.cuda.is_available(), use_cpu=not torch.cuda.is_available(),
        save_strategy="no", report_to="none", logging_steps=max(steps_hint // 20, 1),
        disable_tqdm=True,
    )


def world_size() -> int:
    """Processes training together (torchrun's WORLD_SIZE; 1 alone)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def per_process_batch(sft: Sft) -> int:
    """Each process's share of the global batch (`sft.batchSize` sequences per step)."""
    world = world_size()
    if sft.batch_size % world:
        raise UserError(f"sft.batchSize ({sft.batch_size}) is not a multiple of the {world} "
                        f"training processes: set it to a multiple of {world}")
    return sft.batch_size // world


def _lora_config(sft: Sft):
    if sft.training != "lora":
        return None
    from peft import LoraConfig

    return LoraConfig(r=sft.lora.rank, lora_alpha=sft.lora.alpha, lora_dropout=sft.lora.dropout,
                      target_modules=list(sft.lora.target_modules), task_type="CAUSAL_LM")


def fine_tune(source: ModelSource, rows: list[dict], sft: Sft, out_dir: Path,
              curve_points: int = 0) -> dict:
    """Train, then save a loadable model (LoRA merged, marked done) in out_dir/model;
    `curve_points` evenly spaced intermediate models go to out_dir/curve/step-N."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.trainer_callback import PrinterCallback
    from trl import SFTTrainer

    from dart.sft.curve import CurveSaver
    from dart.sft.progress import SftMetrics, SftProgress

    tokenizer = AutoTokenizer.from_pretrained(source.name_or_path, **source.kwargs())
    model = AutoModelForCausalLM.from_pretrained(source.name_or_path, **source.kwargs())
    steps_hint = int(len(rows) * sft.epochs / sft.batch_size) + 1
    paths = SftPaths(out_dir)
    curve = CurveSaver(curve_points, lambda m, step: save_model(m, tokenizer,
                                                                paths.curve_model(step)),
                       is_main_process())
    trainer = SFTTrainer(
        model=model, args=_trainer_config(sft, out_dir, steps_hint),
        train_dataset=Dataset.from_list(sft_pairs(tokenizer, rows)),
        processing_class=tokenizer, peft_config=_lora_config(sft),
        callbacks=[curve, SftProgress(f"sft {out_dir.parent.name} {out_dir.name}"),
                   SftMetrics(f"sft/{out_dir.parent.name}/{out_dir.name}/")],
    )
    if is_quiet():  # our progress line says it all; the printer writes every log dict
        trainer.remove_callback(PrinterCallback)
    result = trainer.train()
    if is_main_process():
        save_model(trainer.model, tokenizer, paths.model)
    trainer.accelerator.wait_for_everyone()  # no rank moves on before the model is marked
    return {"steps": result.global_step, "train_loss": result.training_loss,
            "rows": len(rows), "tokens_trained": round(_completion_tokens(trainer) * sft.epochs),
            "curve_steps": curve.saved}


def _completion_tokens(trainer) -> int:
    dataset = trainer.train_dataset
    if "completion_mask" not in dataset.column_names:
        return sum(len(ids) for ids in dataset["input_ids"])
    return sum(sum(mask) for mask in dataset["completion_mask"])
