"""The synthesize stage as one call: load the trained mapper into the generator, write this
process's shard, and merge when every shard is there."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoTokenizer

from dart.artifacts import Artifacts, is_done
from dart.config.model_uri import mapper_source
from dart.config.spec import DartRunSpec
from dart.errors import UserError
from dart.serving.client import GeneratorClient, ScorerClient
from dart.synthesize.job import merge, synthesize_shard
from dart.verify import verifier_for

MAPPER_VERSION = "final"
UNTRAINED_VERSION = "base"  # what a generator serves before any weights are loaded


def _serve_mapper(generator, weights: Path, untrained: bool) -> str:
    """Make sure the generator serves the mapper asked for; return its version."""
    serving = generator.info().weights_version
    if untrained:
        if serving != UNTRAINED_VERSION:
            raise UserError(f"the generator serves mapper weights {serving!r}; the untrained "
                            "mapper needs a generator that has loaded none")
        return UNTRAINED_VERSION
    if serving != MAPPER_VERSION:
        generator.load_weights(str(weights.resolve()), MAPPER_VERSION)
    return MAPPER_VERSION


def synthesize_done(artifacts: Path) -> bool:
    """Every shard merged into the dataset and its summary: the folder is marked last."""
    return is_done(Artifacts(artifacts).synthesize().root)


def run_synthesize_stage(spec: DartRunSpec, artifacts: Path, shard: tuple[int, int],
                         generator_address: str, scorer_address: str, on_progress=None,
                         untrained: bool = False, rule: str = "gated") -> dict:
    """`untrained`: rewrite with the generator's initial mapper (the no-rl and grape
    ablations), else with the trained one; `rule`: how a candidate is chosen."""
    from dart.budget import mapper_budget
    from dart.data.load import load_demonstrations

    layout = Artifacts(artifacts)
    weights, synthesized = layout.learn().final, layout.synthesize()
    if not untrained and not is_done(weights):
        raise UserError(f"no trained mapper at {weights}: run the learn stage first")
    source = mapper_source(spec)[0]
    tokenizer = AutoTokenizer.from_pretrained(source.name_or_path, **source.kwargs())
    with verifier_for(spec) as verifier, GeneratorClient(generator_address) as generator, \
            ScorerClient(scorer_address) as scorer:
        generator.wait_ready()
        scorer.wait_ready()
        version = _serve_mapper(generator, weights, untrained)
        items = load_demonstrations(spec.dataset, verifier, budget=mapper_budget(spec)).rows
        synthesize_shard(spec, items, shard, tokenizer=tokenizer, generator=generator,
                         scorer=scorer, verifier=verifier, out_dir=synthesized.shards,
                         mapper_version=version, rule=rule,
                         on_progress=on_progress or (lambda done, total: None))
    count = shard[1]
    if all(synthesized.shard(i, count).exists() for i in range(count)):
        return merge(synthesized, count, spec)
    return {}
