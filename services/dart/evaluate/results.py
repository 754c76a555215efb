"""results.json from the per-model evaluations: seeds combined, curves, costs.

    {"models":   {arm: {set: {"accuracy": mean over seeds, "std": sample std (0 for one seed),
                              "seeds": [accuracy of seed 0, 1, ...], "correct": summed over
                              seeds, "n": problems times seeds}}},      # arm "base" included
     "curves":   {arm: [{"step": .., "tokens_trained": .., "flops": compute spent so far,
                         "accuracy": {set: ..}}, ...]},                 # first seed
     "costs":    {arm: see dart.evaluate.costs},
     "examples": {arm: {set: [{question, gold, prediction, correct}, ...]}},   # first seed
     "summary":  dart.config.status.ResultsSummary: per arm and set mean, std and seeds,
                 the oracle-gap headline, the verdict (a DartRun's status.results too)}

Arms are named as in the spec (`dart`, `sft-original`, `sft-oracle`, `direct-rl`, ablations).
"""

from __future__ import annotations

import statistics
from pathlib import Path

from dart.arms import DIRECT_RL, evaluated_arms, sft_arms
from dart.artifacts import Artifacts, read_json
from dart.config.spec import DartRunSpec
from dart.evaluate.costs import arm_costs
from dart.summary import summarize


def combine_seeds(per_seed: list[dict[str, dict]]) -> dict[str, dict]:
    """One arm's scores per set over its seeds: mean, sample std, each seed's accuracy."""
    combined = {}
    for name in per_seed[0]:
        accuracies = [scores[name]["accuracy"] for scores in per_seed]
        combined[name] = {
            "accuracy": statistics.fmean(accuracies),
            "std": statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0,
            "seeds": accuracies,
            "correct": sum(scores[name]["correct"] for scores in per_seed),
            "n": sum(scores[name]["n"] for scores in per_seed),
        }
    return combined


def _seed_runs(runs: dict[str, dict], arm: str) -> list[dict]:
    seeds = sorted((n for n in runs if n.startswith(f"{arm}/seed-") and n.count("/") == 1),
                   key=lambda n: int(n.rsplit("-", 1)[1]))
    return [runs[n] for n in seeds]


def _accuracies(run: dict) -> dict[str, float]:
    return {name: s["accuracy"] for name, s in run["scores"].items()}


def sft_curve(artifacts: Path, arm: str, runs: dict[str, dict]) -> list[dict]:
    """Accuracy of the first seed along its training: the base target (step 0), the
    intermediate models, the final model. Tokens at a curve point are the run's trained
    tokens times the fraction of its steps done (batches are shuffled, so this is the
    expected count)."""
    stats = read_json(Artifacts(artifacts).sft(arm, 0).stats)
    points = [{"step": 0, "tokens_trained": 0, "accuracy": _accuracies(runs["base"])}]
    for step in stats.get("curve_steps", []):
        run = runs.get(f"{arm}/seed-0/step-{step:06d}")
        if run:
            tokens = round(stats["tokens_trained"] * step / stats["steps"])
            points.append({"step": step, "tokens_trained": tokens, "accuracy": _accuracies(run)})
    final = runs[f"{arm}/seed-0"]
    return points + [{"step": stats["steps"], "tokens_trained": stats["tokens_trained"],
                      "accuracy": _accuracies(final)}]


def rl_curve(costs: dict, spec: DartRunSpec, runs: dict[str, dict]) -> list[dict]:
    """direct-rl: the base target, then the final policy (tokens: the RL tokens)."""
    return [{"step": 0, "tokens_trained": 0, "accuracy": _accuracies(runs["base"]), "flops": 0},
            {"step": spec.learn.steps, "tokens_trained": costs["tokens_trained_rl"],
             "accuracy": _accuracies(runs[f"{DIRECT_RL}/seed-0"]), "flops": costs["flops"]}]


def with_flops(curve: list[dict], costs: dict) -> list[dict]:
    """Compute spent by each point of an SFT curve: everything the arm's data cost before SFT
    began (learn, synthesis), plus 6 P per SFT token trained so far (dart.evaluate.costs)."""
    per_token = 6 * costs["params"]
    upfront = costs["flops"] - per_token * costs["tokens_trained_sft"]
    return [{**point, "flops": upfront + per_token * point["tokens_trained"]} for point in curve]


def assemble_results(spec: DartRunSpec, artifacts: Path, runs: dict[str, dict]) -> dict:
    results = {"models": {"base": combine_seeds([runs["base"]["scores"]])}, "curves": {},
               "costs": {}, "examples": {"base": runs["base"]["examples"]}}
    for arm in evaluated_arms(spec):
        seeds = _seed_runs(runs, arm)
        if not seeds:
            continue
        results["models"][arm] = combine_seeds([run["scores"] for run in seeds])
        results["examples"][arm] = seeds[0]["examples"]
        results["costs"][arm] = arm_costs(spec, artifacts, arm)
        costs = results["costs"][arm]
        results["curves"][arm] = (with_flops(sft_curve(artifacts, arm, runs), costs)
                                  if arm in sft_arms(spec) else rl_curve(costs, spec, runs))
    results["summary"] = summarize(results["models"]).model_dump(mode="json")
    return results
