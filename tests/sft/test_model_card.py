"""The model card of a fine-tuned target names its base, arm, data, seed and settings."""

import yaml

from dart.config.spec import DartRunSpec
from dart.sft.card import model_card


def test_model_card_front_matter_and_facts():
    spec = DartRunSpec.model_validate({
        "models": {"target": {"uri": "hf://Qwen/Qwen2.5-0.5B-Instruct@main"}},
        "dataset": {"file": {"path": "s3://bucket/demos.jsonl"}},
        "evaluate": {"sets": [{"name": "held", "file": {"path": "held.jsonl"}}]},
        "sft": {"seed": 10, "learningRate": 3e-4},
    })
    card = model_card(spec, "dart", 1, {"steps": 50, "rows": 400, "train_loss": 0.5,
                                        "wall_seconds": 12.0, "curve_steps": []})
    front = yaml.safe_load(card.split("---")[1])
    assert front["base_model"] == "Qwen/Qwen2.5-0.5B-Instruct" and "dart" in front["tags"]
    assert "(dart, seed 11)" in card and "the adapted dataset" in card
    assert "`s3://bucket/demos.jsonl`" in card and "learningRate: 0.0003" in card
    assert "steps: 50" in card and "curve_steps" not in card
