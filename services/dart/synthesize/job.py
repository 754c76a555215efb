"""The synthesis job: k rewrites per demonstration from the trained mapper, the best safe one
kept (see dart.synthesize.select), shard by shard, then merged into JSONL, Parquet and a
`datasets` folder with its dataset card (dart.synthesize.card)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from dart.artifacts import (
    SynthesizePaths,
    atomic_file,
    atomic_write_json,
    atomic_write_jsonl,
    mark_done,
)
from dart.config.spec import DartRunSpec
from dart.prompts import PROMPT_FORMAT_VERSION, mapper_prompt
from dart.rewards.batch import ExpertScores, reward_rewrites
from dart.synthesize.card import write_card, write_datasets_folder
from dart.synthesize.select import SELECTION_RULES, Candidate
from dart.synthesize.shards import merge_shards, shard_items, shard_path

CHUNK_ITEMS = 32  # demonstrations per generate/score round trip


def synthesize_shard(spec: DartRunSpec, items: list[dict], shard: tuple[int, int], *,
                     tokenizer, generator, scorer, verifier, out_dir: Path,
                     mapper_version: str, rule: str = "gated",
                     on_progress=lambda done, total: None) -> Path:
    """Write one shard (skipped when it already exists); `rule` names the selection rule
    (dart.synthesize.select.SELECTION_RULES)."""
    path = shard_path(out_dir, *shard)
    if path.exists():
        return path
    work = shard_items(items, *shard)
    experts, rows = ExpertScores(scorer), []
    for start in range(0, len(work), CHUNK_ITEMS):
        chunk = work[start : start + CHUNK_ITEMS]
        began = time.monotonic()
        adapted = _adapt_chunk(spec, chunk, tokenizer, generator, scorer, verifier, experts,
                               mapper_version, SELECTION_RULES[rule])
        seconds = (time.monotonic() - began) / len(chunk)  # the cost accounting's share
        rows += [{**entry, "seconds": seconds} for entry in adapted]
        on_progress(start + len(chunk), len(work))
    atomic_write_jsonl(path, rows)
    return path


def _adapt_chunk(spec, chunk, tokenizer, generator, scorer, verifier, experts, version, select):
    k = spec.synthesize.samples_per_item
    items = [item for _, item in chunk]
    prompts = [mapper_prompt(tokenizer, i["question"], i["solution"]) for i in items]
    groups = generator.generate(
        prompts, n=k, temperature=spec.synthesize.temperature, top_p=spec.learn.top_p,
        max_tokens=spec.learn.max_new_tokens, seed=spec.learn.seed + chunk[0][0])
    texts = [c.text for group in groups for c in group]
    tokens = [sum(len(c.token_ids) for c in group) for group in groups]
    owners = [item for item in items for _ in range(k)]
    rewards = reward_rewrites(owners, texts, scorer=scorer, experts=experts, checker=verifier,
                              config=spec.learn.reward)
    rows = []
    for n, (position, item) in enumerate(chunk):
        candidates = [Candidate(texts[n * k + j], rewards[n * k + j]) for j in range(k)]
        row = select(item, candidates, spec.synthesize.fallback, version, PROMPT_FORMAT_VERSION)
        rows.append({"position": position, "row": row, "generated_tokens": tokens[n]})
    return rows


def merge(paths: SynthesizePaths, count: int, spec: DartRunSpec) -> dict:
    """adapted.jsonl + .parquet + a `datasets` folder + the dataset card + summary.json, in
    dataset order, then the marker."""
    merged = merge_shards(paths.shards, count)
    rows = [entry["row"] for entry in merged if entry["row"] is not None]
    atomic_write_jsonl(paths.dataset, rows)
    _write_parquet(paths.parquet, rows)
    write_datasets_folder(paths.datasets_folder, rows)
    summary = _summary(merged)
    write_card(paths.card, spec, summary, rows)
    atomic_write_json(paths.summary, summary)
    mark_done(paths.root)
    return summary


def _write_parquet(path: Path, rows: list[dict]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    flat = [{**r, "provenance": json.dumps(r["provenance"])} for r in rows]
    with atomic_file(path) as tmp:
        pq.write_table(pa.Table.from_pylist(flat), tmp)


def _summary(merged: list[dict]) -> dict:
    rows = [entry["row"] for entry in merged]
    kept = [r for r in rows if r is not None]
    outcomes = [r["provenance"]["outcome"] for r in kept]
    gains = [r["provenance"]["chosen_reward"]["alignment"] for r in kept
             if r["provenance"]["chosen_reward"]]
    return {
        "items": len(rows), "rows": len(kept), "dropped": len(rows) - len(kept),
        "rewritten": outcomes.count("rewritten"), "kept_original": outcomes.count("kept-original"),
        "mean_alignment_gain_of_rewrites": _mean(gains),
        **_candidate_summary(merged, kept),
    }


def _candidate_summary(merged: list[dict], kept: list[dict]) -> dict:
    """What the samples looked like (reward hacking shows here) and what they cost."""
    provenance = [r["provenance"] for r in kept]
    sampled = sum(p["candidates"] for p in provenance)
    chosen = [p["chosen_reward"] for p in provenance if p["chosen_reward"]]
    return {
        "candidate_answer_preservation": sum(p.get("answer_preserving_candidates", 0)
                                             for p in provenance) / sampled if sampled else None,
        "mean_length_ratio_of_rewrites": _mean([c["length_ratio"] for c in chosen]),
        "generated_tokens": sum(entry.get("generated_tokens", 0) for entry in merged),
        "seconds": round(sum(entry.get("seconds", 0.0) for entry in merged), 3),
    }


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
