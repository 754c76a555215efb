"""`dart evaluate`: accuracy of the base target and of every arm's models on every eval set.

    dart evaluate --config examples/01-quickstart.yaml --artifacts runs/quickstart

Writes artifacts/evaluate/results.json and prints the accuracy table.
"""

from __future__ import annotations

import argparse

from dart.cli.common import add_stage_parser
from dart.config.load import load_dartrun


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_stage_parser(
        subparsers, "evaluate", help="accuracy of the base target and every arm (stage 4)",
        description="Evaluate every available model on every evaluation set of the spec.")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dart import tracking
    from dart.evaluate.stage import run_evaluate_stage
    from dart.report.sections import results_table

    spec = load_dartrun(args.config).spec
    with tracking.tracked(spec, args.artifacts, "evaluate"):
        results = run_evaluate_stage(spec, args.artifacts)
    print("\n".join(results_table(results["models"])))
    return 0
