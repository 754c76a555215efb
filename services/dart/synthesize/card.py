"""The adapted dataset as a `datasets` folder, and its dataset card (README.md).

The card says what the rows are and how they were made, in the hub's card format (YAML front
matter, then Markdown): the source dataset and its revision, the target and the mapper with
its version, the reward and gate settings, counts rewritten / kept / dropped, and the
provenance columns every row carries.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from dart.artifacts import atomic_folder, atomic_write_text
from dart.config.spec import DartRunSpec

PROVENANCE_COLUMNS = {
    "outcome": "rewritten, or kept-original when no rewrite passed every gate",
    "original_solution": "the demonstration as given",
    "chosen_reward": "reward components of the kept rewrite (alignment gain, penalties)",
    "candidates": "rewrites sampled for the item",
    "passing_candidates": "rewrites that passed every gate",
    "answer_preserving_candidates": "rewrites whose final answer matched the gold one",
    "mapper_version": "weights version of the mapper that wrote the rewrites",
    "prompt_format": "version of the mapper's prompt",
}


def write_datasets_folder(folder: Path, rows: list[dict]) -> None:
    """`datasets.save_to_disk` of the rows (provenance as a JSON string), atomically."""
    import datasets

    flat = [{**r, "provenance": json.dumps(r["provenance"])} for r in rows]
    with atomic_folder(folder) as tmp:
        datasets.Dataset.from_list(flat).save_to_disk(str(tmp))


def write_card(path: Path, spec: DartRunSpec, summary: dict, rows: list[dict],
               data_file: str) -> None:
    atomic_write_text(path, dataset_card(spec, summary, rows, data_file))


def dataset_card(spec: DartRunSpec, summary: dict, rows: list[dict], data_file: str) -> str:
    """`data_file` (the parquet file, beside the card) is the train split the card declares:
    the folder also holds the JSONL, the shards and a `datasets` folder, and on the hub
    `load_dataset` would otherwise guess among them."""
    source, revision = source_of(spec)
    mapper = spec.models.mapper.init or spec.models.target
    versions = sorted({r["provenance"]["mapper_version"] for r in rows})
    front = {"tags": ["dart", "sft", "synthetic-rewrites"], "size_categories": _size(len(rows)),
             "source_datasets": [source],
             "configs": [{"config_name": "default",
                          "data_files": [{"split": "train", "path": data_file}]}]}
    settings = {"reward": spec.learn.reward.model_dump(mode="json", by_alias=True),
                "synthesize": spec.synthesize.model_dump(mode="json", by_alias=True)}
    return "\n".join([
        "---", yaml.safe_dump(front, sort_keys=False).strip(), "---", "",
        "# Adapted SFT dataset (DART)", "",
        f"Demonstrations of `{source}` rewritten by a DART mapper so that the target "
        f"`{spec.models.target.uri}` finds them likely, with the final answers unchanged.", "",
        "| | |", "|---|---|",
        f"| source dataset | `{source}` |", f"| source revision | `{revision or 'n/a'}` |",
        f"| target | `{spec.models.target.uri}` |",
        f"| mapper | `{mapper.uri}` ({spec.models.mapper.training}), versions "
        f"{', '.join(f'`{v}`' for v in versions) or 'n/a'} |",
        f"| items | {summary['items']} |", f"| rewritten | {summary['rewritten']} |",
        f"| kept original | {summary['kept_original']} |", f"| dropped | {summary['dropped']} |",
        "", "## Reward and gate settings", "", "```yaml",
        yaml.safe_dump(settings, sort_keys=False).strip(), "```", "",
        "## Columns", "", "`id`, `question`, `solution` (the kept rewrite or the original), "
        "`answer`, and `provenance`:", "",
        *[f"- `{name}`: {meaning}" for name, meaning in PROVENANCE_COLUMNS.items()], "",
    ])


def source_of(spec: DartRunSpec) -> tuple[str, str | None]:
    """The dataset's name as the spec gives it, and its revision where it has one."""
    dataset = spec.dataset
    if dataset.file is not None:
        path = dataset.file.path
        revision = path.partition("@")[2] if path.startswith("hf://") else ""
        return path, revision or None
    if dataset.synthetic is not None:
        return f"dart-synthetic (seed {dataset.synthetic.seed})", None
    return f"reasoning-gym:{dataset.reasoning_gym.task} (seed {dataset.reasoning_gym.seed})", None


def _size(n: int) -> list[str]:
    for bound, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < bound:
            return [name]
    return ["n>100K"]
