"""The synthesize stage as one call: load the trained mapper into the generator, write this
process's shard, and merge when every shard is there."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoTokenizer

from dart.config.model_uri import resolve_model
from dart.config.spec import DartRunSpec
from dart.errors import UserError
from dart.serving.client import GeneratorClient, ScorerClient
from dart.synthesize.job import merge, synthesize_shard
from dart.synthesize.shards import shard_path
from dart.verify import verifier_for

MAPPER_VERSION = "final"


def paths(artifacts: Path) -> tuple[Path, Path, Path]:
    """(final mapper weights, shard folder, dataset folder)."""
    root = artifacts / "synthesize"
    return artifacts / "learn/weights/final", root / "shards", root


def synthesize_done(artifacts: Path) -> bool:
    return (paths(artifacts)[2] / "adapted.jsonl").exists()


def run_synthesize_stage(spec: DartRunSpec, artifacts: Path, shard: tuple[int, int],
                         generator_address: str, scorer_address: str, on_progress=None) -> dict:
    from dart.data.load import load_demonstrations

    weights, shards, dataset = paths(artifacts)
    if not (weights / "STABLE").exists():
        raise UserError(f"no trained mapper at {weights}: run the learn stage first")
    source = resolve_model(spec.models.mapper.init or spec.models.target)
    tokenizer = AutoTokenizer.from_pretrained(source.name_or_path, **source.kwargs())
    with verifier_for(spec) as verifier, GeneratorClient(generator_address) as generator, \
            ScorerClient(scorer_address) as scorer:
        generator.wait_ready()
        scorer.wait_ready()
        if generator.info().weights_version != MAPPER_VERSION:
            generator.load_weights(str(weights.resolve()), MAPPER_VERSION)
        items = load_demonstrations(spec.dataset, verifier).rows
        synthesize_shard(spec, items, shard, tokenizer=tokenizer, generator=generator,
                         scorer=scorer, verifier=verifier, out_dir=shards,
                         mapper_version=MAPPER_VERSION,
                         on_progress=on_progress or (lambda done, total: None))
    count = shard[1]
    if all(shard_path(shards, i, count).exists() for i in range(count)):
        return merge(shards, count, dataset)
    return {}
