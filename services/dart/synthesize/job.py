"""The synthesis job: k rewrites per demonstration from the trained mapper, the best safe one
kept (see dart.synthesize.select), shard by shard, then merged into JSONL and Parquet."""

from __future__ import annotations

import json
from pathlib import Path

from dart.config.spec import DartRunSpec
from dart.prompts import PROMPT_FORMAT_VERSION, mapper_prompt
from dart.rewards.batch import ExpertScores, reward_rewrites
from dart.synthesize.select import Candidate, adapted_row
from dart.synthesize.shards import (
    merge_shards,
    shard_items,
    shard_path,
    write_jsonl_atomic,
)

CHUNK_ITEMS = 32  # demonstrations per generate/score round trip


def synthesize_shard(spec: DartRunSpec, items: list[dict], shard: tuple[int, int], *,
                     tokenizer, generator, scorer, verifier, out_dir: Path,
                     mapper_version: str, on_progress=lambda done, total: None) -> Path:
    """Write one shard (skipped when it already exists)."""
    path = shard_path(out_dir, *shard)
    if path.exists():
        return path
    work = shard_items(items, *shard)
    experts, rows = ExpertScores(scorer), []
    for start in range(0, len(work), CHUNK_ITEMS):
        chunk = work[start : start + CHUNK_ITEMS]
        rows += _adapt_chunk(spec, chunk, tokenizer, generator, scorer, verifier, experts,
                             mapper_version)
        on_progress(start + len(chunk), len(work))
    write_jsonl_atomic(path, rows)
    return path


def _adapt_chunk(spec, chunk, tokenizer, generator, scorer, verifier, experts, version):
    k = spec.synthesize.samples_per_item
    items = [item for _, item in chunk]
    prompts = [mapper_prompt(tokenizer, i["question"], i["solution"]) for i in items]
    groups = generator.generate(
        prompts, n=k, temperature=spec.synthesize.temperature, top_p=spec.learn.top_p,
        max_tokens=spec.learn.max_new_tokens, seed=spec.learn.seed + chunk[0][0])
    texts = [c.text for group in groups for c in group]
    owners = [item for item in items for _ in range(k)]
    rewards = reward_rewrites(owners, texts, scorer=scorer, experts=experts, checker=verifier,
                              config=spec.learn.reward)
    rows = []
    for n, (position, item) in enumerate(chunk):
        candidates = [Candidate(texts[n * k + j], rewards[n * k + j]) for j in range(k)]
        row = adapted_row(item, candidates, spec.synthesize.fallback, version,
                          PROMPT_FORMAT_VERSION)
        rows.append({"position": position, "row": row})
    return rows


def merge(out_dir: Path, count: int, dataset_dir: Path) -> dict:
    """adapted.jsonl + adapted.parquet + summary.json, in dataset order."""
    merged = merge_shards(out_dir, count)
    rows = [entry["row"] for entry in merged if entry["row"] is not None]
    write_jsonl_atomic(dataset_dir / "adapted.jsonl", rows)
    _write_parquet(dataset_dir / "adapted.parquet", rows)
    summary = _summary(merged)
    (dataset_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _write_parquet(path: Path, rows: list[dict]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    flat = [{**r, "provenance": json.dumps(r["provenance"])} for r in rows]
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(pa.Table.from_pylist(flat), tmp)
    tmp.replace(path)


def _summary(merged: list[dict]) -> dict:
    rows = [entry["row"] for entry in merged]
    kept = [r for r in rows if r is not None]
    outcomes = [r["provenance"]["outcome"] for r in kept]
    gains = [r["provenance"]["chosen_reward"]["alignment"] for r in kept
             if r["provenance"]["chosen_reward"]]
    return {
        "items": len(rows), "rows": len(kept), "dropped": len(rows) - len(kept),
        "rewritten": outcomes.count("rewritten"), "kept_original": outcomes.count("kept-original"),
        "mean_alignment_gain_of_rewrites": sum(gains) / len(gains) if gains else None,
    }
