"""The evaluate stage: every model of every arm on every evaluation set, one verifier.

Each model's scores are cached in evaluate/runs/ (a re-run evaluates only what is new), then
combined into results.json (schema in dart.evaluate.results): per arm and set the accuracy
of each seed, their mean and spread, the accuracy along training, and each arm's costs.
"""

from __future__ import annotations

from pathlib import Path

from dart import tracking
from dart.arms import DIRECT_RL, evaluated_arms, sft_arms
from dart.artifacts import Artifacts, atomic_write_json, is_done, read_json_or
from dart.config.model_uri import TARGET_FIELD, model_folder, target_source
from dart.config.spec import DartRunSpec
from dart.evaluate.generate import load_for_generation, solve
from dart.evaluate.results import assemble_results
from dart.verify import verifier_for

EXAMPLES_KEPT = 5


def results_path(artifacts: Path) -> Path:
    return Artifacts(artifacts).results


def models_to_evaluate(spec: DartRunSpec, artifacts: Path) -> dict[str, Path | str]:
    """name -> model path: the base target, each finished (arm, seed), each curve point."""
    layout = Artifacts(artifacts)
    base = model_folder(target_source(spec), TARGET_FIELD)
    models: dict[str, Path | str] = {"base": base}
    for arm in sft_arms(spec):
        for seed in range(spec.evaluate.seeds):
            models[f"{arm}/seed-{seed}"] = layout.sft(arm, seed).model
        for curve in sorted(layout.sft(arm, 0).curve.glob("step-*")):
            models[f"{arm}/seed-0/{curve.name}"] = curve
    if DIRECT_RL in evaluated_arms(spec):
        models[f"{DIRECT_RL}/seed-0"] = layout.direct_rl_model
    return {name: path for name, path in models.items() if name == "base" or is_done(path)}


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
            runs[name] = _evaluation(name, path, sets, spec, verifier, artifacts, log)
    results = assemble_results(spec, artifacts, runs)
    atomic_write_json(results_path(artifacts), results)
    tracking.report({"accuracy": final_accuracies(results)}, prefix="evaluate/")
    return results


def final_accuracies(results: dict) -> dict:
    """arm -> set -> mean and std over seeds: what a tracker shows of results.json."""
    return {arm: {name: {"mean": score["accuracy"], "std": score["std"]}
                  for name, score in sets.items()}
            for arm, sets in results["models"].items()}


def _evaluation(name, path, sets, spec, verifier, artifacts: Path, log) -> dict:
    """One model's scores, from its cache when a finished earlier run left one (a torn
    cache file only means it is evaluated again)."""
    cache = Artifacts(artifacts).evaluation(name)
    if (cached := read_json_or(cache)) is not None:
        return cached
    log(f"evaluate[{name}]: {', '.join(f'{k} ({len(v)})' for k, v in sets.items())}")
    scores = evaluate_model(str(path), sets, spec, verifier)
    atomic_write_json(cache, scores)
    return scores
