"""The learn stage as one call: data, verifier, clients, policy, GRPO."""

from __future__ import annotations

from pathlib import Path

from dart.artifacts import Artifacts, is_done
from dart.config.model_uri import mapper_source
from dart.config.spec import DartRunSpec
from dart.learn.loop import LearnerServices, train
from dart.learn.policy import build_policy
from dart.serving.client import GeneratorClient, ScorerClient
from dart.verify import verifier_for


def learn_stage_done(artifacts: Path) -> bool:
    return is_done(Artifacts(artifacts).learn().final)


def run_learn_stage(spec: DartRunSpec, artifacts: Path, generator_address: str,
                    scorer_address: str) -> Path:
    from dart.budget import mapper_budget
    from dart.data.load import load_demonstrations

    with verifier_for(spec) as verifier, GeneratorClient(generator_address) as generator, \
            ScorerClient(scorer_address) as scorer:
        items = load_demonstrations(spec.dataset, verifier, budget=mapper_budget(spec)).rows
        generator.wait_ready()
        scorer.wait_ready()
        source = mapper_source(spec)[0]
        policy = build_policy(source, spec.models.mapper, spec.learn)
        services = LearnerServices(generator, scorer, verifier)
        return train(policy, items, spec, services, artifacts)
