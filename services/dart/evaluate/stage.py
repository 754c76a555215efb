"""The evaluate stage: every model of every arm on every evaluation set, one verifier.

Each model's scores are cached in evaluate/runs/ (a re-run evaluates only what is new), then
combined into results.json (schema in dart.evaluate.results): per arm and set the accuracy
of each seed, their mean and spread, the accuracy along training, and each arm's costs.
"""

from __future__ import annotations

import json
from pathlib import Path

from dart.arms import DIRECT_RL, direct_rl_root, evaluated_arms, sft_arms
from dart.config.model_uri import resolve_model
from dart.config.spec import DartRunSpec
from dart.evaluate.generate import load_for_generation, solve
from dart.evaluate.results import assemble_results
from dart.sft.stage import run_dir, run_model
from dart.sft.train import DONE
from dart.verify import verifier_for

EXAMPLES_KEPT = 5


def results_path(artifacts: Path) -> Path:
    return artifacts / "evaluate" / "results.json"


def models_to_evaluate(spec: DartRunSpec, artifacts: Path) -> dict[str, Path | str]:
    """name -> model path: the base target, each finished (arm, seed), each curve point."""
    models: dict[str, Path | str] = {"base": resolve_model(spec.models.target).name_or_path}
    for arm in sft_arms(spec):
        for seed in range(spec.evaluate.seeds):
            models[f"{arm}/seed-{seed}"] = run_model(artifacts, arm, seed)
        for curve in sorted((run_dir(artifacts, arm, 0) / "curve").glob("step-*")):
            models[f"{arm}/seed-0/{curve.name}"] = curve
    if DIRECT_RL in evaluated_arms(spec):
        models[f"{DIRECT_RL}/seed-0"] = direct_rl_root(artifacts) / "model"
    return {name: path for name, path in models.items()
            if name == "base" or (Path(path) / DONE).exists()}


def evaluate_model(path: str, sets: dict[str, list[dict]], spec: DartRunSpec, verifier) -> dict:
    scores, examples, loaded = {}, {}, load_for_generation(path)
    for name, rows in sets.items():
        predictions = solve(loaded, [r["question"] for r in rows],
                            max_new_tokens=spec.evaluate.max_new_tokens,
                            batch_size=spec.evaluate.batch_size)
        correct = verifier.score_many([(p, r["answer"]) for p, r in zip(predictions, rows,
                                                                          strict=True)])
        scores[name] = {"accuracy": sum(correct) / len(rows), "correct": sum(correct),
                        "n": len(rows)}
        examples[name] = [{"question": r["question"], "gold": r["answer"], "prediction": p,
                           "correct": c} for r, p, c in list(zip(rows, predictions, correct,
                                                                 strict=True))[:EXAMPLES_KEPT]]
    return {"scores": scores, "examples": examples}


def run_evaluate_stage(spec: DartRunSpec, artifacts: Path, log=print) -> dict:
    from dart.data.load import load_eval_set

    runs = {}
    with verifier_for(spec) as verifier:
        sets = {s.name: load_eval_set(s, spec.dataset, verifier).rows for s in spec.evaluate.sets}
        for name, path in models_to_evaluate(spec, artifacts).items():
            cache = artifacts / "evaluate" / "runs" / f"{name}.json"
            if not cache.exists():
                log(f"evaluate[{name}]: {', '.join(f'{k} ({len(v)})' for k, v in sets.items())}")
                _write_json(cache, evaluate_model(str(path), sets, spec, verifier))
            runs[name] = json.loads(cache.read_text())
    results = assemble_results(spec, artifacts, runs)
    _write_json(results_path(artifacts), results)
    return results


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)
