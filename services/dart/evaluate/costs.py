"""What each arm cost to produce, from the artifacts its stages wrote.

    {"wall_seconds": learn + synthesize + one SFT run, "tokens_generated": rollout and
     synthesis samples behind the arm's data, "tokens_trained_sft": SFT target tokens,
     "tokens_trained_rl": RL rollout tokens the policy was updated on, "params": P,
     "flops": 6 P (tokens_trained_sft + tokens_trained_rl) + 2 P tokens_generated,
     "seconds": {"learn": .., "synthesize": .., "sft": ..}}

The FLOPs are the usual dense-transformer estimate (forward 2P per token, forward+backward 6P
per trained token; Kaplan et al. 2020, arXiv 2001.08361), with P the target's parameter
count (the mapper starts from the target by default). It leaves out target scoring and the
learner's extra forward passes, the same for every arm with RL.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from dart.arms import DIRECT_RL, is_adapted
from dart.artifacts import Artifacts, LearnPaths, read_json_or, read_jsonl
from dart.config.model_uri import TARGET_FIELD, model_folder, target_source
from dart.config.spec import DartRunSpec


@cache
def parameter_count(model_path: str) -> int:
    """Parameters of a model, counted on the meta device (no weights are loaded)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(model_path))
    return sum(p.numel() for p in model.parameters())


def learn_totals(learn: LearnPaths) -> tuple[float, int]:
    """(seconds, rollout tokens) of one learner run, from its history."""
    steps = read_jsonl(learn.history)
    return (sum(s.get("seconds", 0.0) for s in steps),
            sum(s.get("generated_tokens", 0) for s in steps))


def synthesize_totals(layout: Artifacts, arm: str) -> tuple[float, int]:
    data = read_json_or(layout.synthesize(arm).summary, {})
    return data.get("seconds", 0.0), data.get("generated_tokens", 0)


def _sft_totals(layout: Artifacts, arm: str) -> tuple[float, int]:
    data = read_json_or(layout.sft(arm, 0).stats, {})
    return data.get("wall_seconds", 0.0), data.get("tokens_trained", 0)


def arm_costs(spec: DartRunSpec, artifacts: Path, arm: str) -> dict:
    layout = Artifacts(artifacts)
    (learn_s, rl_tokens), (synth_s, synth_tokens) = (0.0, 0), (0.0, 0)
    if is_adapted(arm):
        learn_s, rl_tokens = learn_totals(layout.learn(arm))
        synth_s, synth_tokens = synthesize_totals(layout, arm)
    elif arm == DIRECT_RL:
        learn_s, rl_tokens = learn_totals(layout.direct_rl_learn)
    sft_s, sft_tokens = _sft_totals(layout, arm)
    params = parameter_count(model_folder(target_source(spec), TARGET_FIELD))
    generated = rl_tokens + synth_tokens
    return {
        "wall_seconds": round(learn_s + synth_s + sft_s, 1), "tokens_generated": generated,
        "tokens_trained_sft": sft_tokens, "tokens_trained_rl": rl_tokens, "params": params,
        "flops": 6 * params * (sft_tokens + rl_tokens) + 2 * params * generated,
        "seconds": {"learn": round(learn_s, 1), "synthesize": round(synth_s, 1),
                    "sft": round(sft_s, 1)},
    }
