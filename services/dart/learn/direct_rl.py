"""The direct-rl arm: GRPO on the target itself with the verifier's correctness reward.

The same learner as DART's mapper (dart.learn.loop, rollouts, policy, checkpoints and resume)
with the `SolveTask`: prompts are the target's own chat prompt for each training question,
the reward is 1 when the verifier accepts the final answer, and the budget is the mapper's
(learn.steps x batchSize x groupSize rollouts, same adapter settings). Its folder holds
learn/ like the mapper's, and model/: the trained target, merged, for evaluation.
"""

from __future__ import annotations

from pathlib import Path

from dart.artifacts import Artifacts, is_done
from dart.artifacts.models import save_model
from dart.config.model_uri import target_source
from dart.config.spec import DartRunSpec
from dart.learn import ranks
from dart.learn.loop import LearnerServices, train
from dart.learn.policy import build_policy
from dart.learn.stage import learn_stage_done
from dart.learn.tasks import SolveTask
from dart.serving.client import GeneratorClient
from dart.verify import verifier_for


def direct_rl_done(artifacts: Path) -> bool:
    return is_done(Artifacts(artifacts).direct_rl_model)


def run_direct_rl_stage(spec: DartRunSpec, artifacts: Path, generator_address: str) -> Path:
    """Train (or resume) the target with GRPO, then write its merged model."""
    from dart.data.load import load_demonstrations

    layout, source = Artifacts(artifacts), target_source(spec)
    root = layout.direct_rl
    if not learn_stage_done(root):
        with verifier_for(spec) as verifier, GeneratorClient(generator_address) as generator:
            items = load_demonstrations(spec.dataset, verifier).rows
            generator.wait_ready()
            policy = build_policy(source, spec.models.mapper, spec.learn)
            services = LearnerServices(generator, None, verifier, SolveTask(verifier))
            train(policy, items, spec, services, root)
    out = layout.direct_rl_model
    if ranks.is_main():  # one merged model, written once
        _merge_into_target(source, layout.direct_rl_learn.final, out)
    ranks.barrier()
    return out


def _merge_into_target(source, weights: Path, out: Path) -> Path:
    """The trained target as one loadable model: a LoRA adapter merged, full weights as is."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source.name_or_path, **source.kwargs())
    if (weights / "adapter_config.json").exists():
        model = AutoModelForCausalLM.from_pretrained(source.name_or_path, **source.kwargs())
        model = PeftModel.from_pretrained(model, weights)
    else:
        model = AutoModelForCausalLM.from_pretrained(weights)
    save_model(model, tokenizer, out)
    return out
