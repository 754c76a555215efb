"""The synthesis job: k rewrites per demonstration from the trained mapper, the best safe one
kept (see dart.synthesize.select), shard by shard, then merged into JSONL, Parquet and a
`datasets` folder with its dataset card (dart.synthesize.card)."""

from __future__ import annotations

import errno
import json
import shutil
import time
from pathlib import Path

from dart.artifacts import (
    SynthesizePaths,
    append_jsonl,
    atomic_file,
    atomic_write_json,
    atomic_write_jsonl,
    mark_done,
    read_jsonl,
)
from dart.artifacts.layout import partial_shard
from dart.config.spec import DartRunSpec
from dart.errors import UserError
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
    (dart.synthesize.select.SELECTION_RULES). Each finished chunk is appended to the shard's
    partial file at once, so a crash or a full disk loses one chunk at most, and a re-run
    goes on from the first chunk not kept (the same chunks and seeds, so the same rows)."""
    path = shard_path(out_dir, *shard)
    if path.exists():
        return path
    work = shard_items(items, *shard)
    chunks = [work[start : start + CHUNK_ITEMS] for start in range(0, len(work), CHUNK_ITEMS)]
    partial = partial_shard(path)
    kept = _whole_chunks(read_jsonl(partial), chunks)
    atomic_write_jsonl(partial, kept)  # drops a chunk a crash left half-appended
    finished = {entry["position"] for entry in kept}
    experts, done = ExpertScores(scorer), len(kept)
    for chunk in chunks:
        if chunk[0][0] in finished:
            continue
        began = time.monotonic()
        adapted = _adapt_chunk(spec, chunk, tokenizer, generator, scorer, verifier, experts,
                               mapper_version, SELECTION_RULES[rule])
        seconds = (time.monotonic() - began) / len(chunk)  # the cost accounting's share
        keep_chunk(partial, [{**entry, "seconds": seconds} for entry in adapted], done, len(work))
        done += len(chunk)
        on_progress(done, len(work))
    atomic_write_jsonl(path, read_jsonl(partial))
    partial.unlink()
    return path


def keep_chunk(partial: Path, rows: list[dict], done: int, total: int) -> None:
    """Append a finished chunk; a full disk is one sentence with the space the rest needs."""
    try:
        append_jsonl(partial, rows)
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        written = partial.stat().st_size if partial.exists() else 0
        per_row = written / done if done else len(json.dumps(rows)) / len(rows)
        needed = per_row * (total - done) / 2**20
        free = shutil.disk_usage(partial.parent).free / 2**20
        raise UserError(
            f"{partial}: no space left on device: the shard needs about {needed:.1f} MiB more "
            f"({free:.1f} MiB free); free some space and run it again, the {done} of {total} "
            f"demonstrations already rewritten are kept") from None


def _whole_chunks(rows: list[dict], chunks: list[list[tuple[int, dict]]]) -> list[dict]:
    """The rows of the chunks a partial file holds entirely, in chunk order."""
    by_position = {entry["position"]: entry for entry in rows}
    return [by_position[position] for chunk in chunks
            if all(position in by_position for position, _ in chunk)
            for position, _ in chunk]


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
    write_card(paths.card, spec, summary, rows, data_file=paths.parquet.name)
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
