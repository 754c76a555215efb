"""The evaluate stage: every model on every evaluation set, one verifier, one JSON file.

    results.json = {"models": {"base": {"in-domain": {"accuracy": .., "correct": .., "n": ..},
                                        ...}, "baseline": {...}, "dart": {...}},
                    "examples": {model: {set: [{question, gold, prediction, correct}, ...]}}}
"""

from __future__ import annotations

import json
from pathlib import Path

from dart.config.model_uri import resolve_model
from dart.config.spec import DartRunSpec
from dart.evaluate.generate import solve
from dart.sft.stage import arm_model, sft_arms
from dart.sft.train import DONE
from dart.verify import verifier_for

EXAMPLES_KEPT = 5


def results_path(artifacts: Path) -> Path:
    return artifacts / "evaluate" / "results.json"


def models_to_evaluate(spec: DartRunSpec, artifacts: Path) -> dict[str, str]:
    """The base target, then each fine-tuned arm that finished."""
    models = {"base": resolve_model(spec.models.target).name_or_path}
    for arm in sft_arms(spec):
        if (arm_model(artifacts, arm) / DONE).exists():
            models[arm] = str(arm_model(artifacts, arm))
    return models


def evaluate_model(path: str, sets: dict[str, list[dict]], spec: DartRunSpec, verifier) -> tuple:
    scores, examples = {}, {}
    for name, rows in sets.items():
        predictions = solve(path, [r["question"] for r in rows],
                            max_new_tokens=spec.evaluate.max_new_tokens,
                            batch_size=spec.evaluate.batch_size)
        correct = verifier.score_many([(p, r["answer"]) for p, r in zip(predictions, rows,
                                                                          strict=True)])
        scores[name] = {"accuracy": sum(correct) / len(rows), "correct": sum(correct),
                        "n": len(rows)}
        examples[name] = [{"question": r["question"], "gold": r["answer"], "prediction": p,
                           "correct": c} for r, p, c in list(zip(rows, predictions, correct,
                                                                 strict=True))[:EXAMPLES_KEPT]]
    return scores, examples


def run_evaluate_stage(spec: DartRunSpec, artifacts: Path, log=print) -> dict:
    from dart.data.load import load_eval_set

    results = {"models": {}, "examples": {}}
    with verifier_for(spec) as verifier:
        sets = {s.name: load_eval_set(s, spec.dataset, verifier).rows for s in spec.evaluate.sets}
        for model, path in models_to_evaluate(spec, artifacts).items():
            log(f"evaluate[{model}]: {', '.join(f'{k} ({len(v)})' for k, v in sets.items())}")
            scores, examples = evaluate_model(path, sets, spec, verifier)
            results["models"][model], results["examples"][model] = scores, examples
    out = results_path(artifacts)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=2))
    tmp.replace(out)
    return results
