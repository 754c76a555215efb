"""The model card (README.md in the hub's format) of a fine-tuned target: its base, the data
and arm it was trained on, the seed, the SFT settings and what training measured. The
accuracies come from the evaluate stage (evaluate/results.json, the report)."""

from __future__ import annotations

from pathlib import Path

import yaml

from dart.artifacts import atomic_write_text
from dart.config.spec import DartRunSpec

ARM_DATA = {
    "dart": "the adapted dataset (synthesize/, with its dataset card)",
    "sft-original": "the demonstrations as given",
    "sft-oracle": "the same problems in the target's native style",
}


def write_model_card(model_dir: Path, spec: DartRunSpec, arm: str, seed: int,
                     stats: dict) -> None:
    atomic_write_text(model_dir / "README.md", model_card(spec, arm, seed, stats))


def model_card(spec: DartRunSpec, arm: str, seed: int, stats: dict) -> str:
    base = spec.models.target.uri
    front = {"base_model": base.removeprefix("hf://").partition("@")[0],
             "tags": ["dart", "sft", arm], "library_name": "transformers"}
    data = ARM_DATA.get(arm, f"the {arm} arm's data")
    settings = spec.sft.model_dump(mode="json", by_alias=True)
    measured = {k: stats[k] for k in ("steps", "rows", "train_loss", "tokens_trained",
                                      "wall_seconds")
                if k in stats}
    return "\n".join([
        "---", yaml.safe_dump(front, sort_keys=False).strip(), "---", "",
        f"# {base} fine-tuned by DART ({arm}, seed {spec.sft.seed + seed})", "",
        f"Base `{base}`, trained on {data}, from the dataset "
        f"`{_source(spec)}`.", "",
        "## SFT settings", "", "```yaml", yaml.safe_dump(settings, sort_keys=False).strip(),
        "```", "", "## Training", "", "```yaml",
        yaml.safe_dump(measured, sort_keys=False).strip(), "```", "",
        "Accuracies of this model and of every other arm, on every evaluation set, are in the "
        "run's `evaluate/results.json` and `report/report.md`.", "",
    ])


def _source(spec: DartRunSpec) -> str:
    dataset = spec.dataset
    if dataset.file is not None:
        return dataset.file.path
    return "dart-synthetic" if dataset.synthetic is not None else (
        f"reasoning-gym:{dataset.reasoning_gym.task}")
