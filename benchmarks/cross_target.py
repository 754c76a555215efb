"""Target specificity (issue #16): does each target learn best from data adapted for itself?

    python benchmarks/cross_target.py RUN_A RUN_B [--seeds N] [--json out.json]

RUN_A and RUN_B are two finished `dart run` folders on the same dataset with targets of
different native styles (e.g. examples/01-quickstart.yaml, and the same run with
`models.target.uri: ./tiny-models/target-opword-carryword-boxed` and
`dataset.synthetic.targetStyle: opword-carryword-boxed`). Each run's target is fine-tuned on
each run's adapted dataset with its own run's SFT settings and seeds, and evaluated on its
own run's evaluation sets: a 2x2 table per set, accuracy mean ± std over the seeds. The
diagonal retrains the run's own dart arm (same rows, settings and seeds) and prints that
arm's figure from the run's results.json beside it, so the two measurements check each other.

`--epochs` and `--eval-limit` shrink the work for the test suite's smoke run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from dart.artifacts import Artifacts, read_json_or, read_jsonl
from dart.config.load import load_dartrun
from dart.config.model_uri import target_source
from dart.config.spec import DartRunSpec
from dart.data.load import load_eval_set
from dart.evaluate.results import combine_seeds
from dart.evaluate.stage import evaluate_model
from dart.sft.train import fine_tune
from dart.verify import verifier_for


def finished_run(folder: Path) -> tuple[DartRunSpec, list[dict]]:
    """A run's spec and its adapted dataset."""
    dataset = Artifacts(folder).synthesize().dataset
    if not dataset.exists():
        raise SystemExit(f"{folder}: no adapted dataset at {dataset}; run `dart run` first")
    return load_dartrun(folder / "dartrun.yaml").spec, read_jsonl(dataset)


def scores_over_seeds(spec: DartRunSpec, rows: list[dict], seeds: int, work: Path,
                      epochs: float | None, eval_limit: int | None) -> dict[str, dict]:
    """{set: {"accuracy", "std", "seeds", ...}} of `spec`'s target fine-tuned on `rows`,
    combined over seeds as results.json combines an arm's."""
    settings = spec.sft if epochs is None else spec.sft.model_copy(update={"epochs": epochs})
    per_seed = []
    with verifier_for(spec) as verifier:
        sets = {s.name: load_eval_set(s, spec.dataset, verifier).rows[:eval_limit]
                for s in spec.evaluate.sets}
        for seed in range(seeds):
            out = work / f"seed-{seed}"
            fine_tune(target_source(spec), rows,
                      settings.model_copy(update={"seed": settings.seed + seed}), out)
            per_seed.append(evaluate_model(str(out / "model"), sets, spec, verifier)["scores"])
    return combine_seeds(per_seed)


def cross_table(runs: dict[str, Path], seeds: int | None, epochs: float | None,
                eval_limit: int | None) -> dict:
    """target run -> data run -> set -> scores, plus each run's own dart arm as recorded."""
    loaded = {name: finished_run(folder) for name, folder in runs.items()}
    table: dict = {"cells": {}, "recorded_dart": {}}
    with tempfile.TemporaryDirectory(prefix="dart-cross-") as scratch:
        for target, (spec, _) in loaded.items():
            count = seeds or spec.evaluate.seeds
            table["cells"][target] = {
                data: scores_over_seeds(spec, rows, count, Path(scratch) / target / data,
                                        epochs, eval_limit)
                for data, (_, rows) in loaded.items()}
            results = read_json_or(Artifacts(runs[target]).results, {})
            table["recorded_dart"][target] = {
                name: score["accuracy"]
                for name, score in results.get("models", {}).get("dart", {}).items()}
    return table


def print_table(table: dict) -> None:
    for target, row in table["cells"].items():
        for data, sets in row.items():
            cells = ", ".join(f"{name} {s['accuracy']:.3f} ± {s['std']:.3f}"
                              for name, s in sets.items())
            own = " (its own)" if data == target else ""
            print(f"target {target} on data adapted for {data}{own}: {cells}")
        recorded = table["recorded_dart"][target]
        if recorded:
            print(f"  {target}'s dart arm in its results.json: "
                  + ", ".join(f"{name} {value:.3f}" for name, value in recorded.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs=2, type=Path, help="two finished dart run folders")
    parser.add_argument("--seeds", type=int, help="SFT seeds per cell (default: each run's)")
    parser.add_argument("--epochs", type=float, help="override sft.epochs (smoke runs)")
    parser.add_argument("--eval-limit", type=int, help="problems per evaluation set")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    names = [folder.name for folder in args.runs]
    if names[0] == names[1]:
        names = [f"{name}-{i}" for i, name in enumerate(names)]
    table = cross_table(dict(zip(names, args.runs, strict=True)), args.seeds, args.epochs,
                        args.eval_limit)
    print_table(table)
    if args.json:
        args.json.write_text(json.dumps(table, indent=2))
    print(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
