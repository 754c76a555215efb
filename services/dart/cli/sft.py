"""`dart sft`: fine-tune the target on the adapted data, and on the original as a baseline.

    dart sft --config examples/01-quickstart.yaml --artifacts runs/quickstart

Writes artifacts/sft/<arm>/model (loadable by path) and stats.json; finished arms are skipped.
"""

from __future__ import annotations

import argparse
import json

from dart.cli.common import add_stage_parser
from dart.config.load import load_dartrun


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_stage_parser(
        subparsers, "sft", help="fine-tune the target on the adapted (and original) data "
        "(stage 3)", description="TRL SFT of the target per arm: dart, and baseline when "
        "spec.sft.baseline.")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dart.sft.stage import run_sft_stage

    results = run_sft_stage(load_dartrun(args.config).spec, args.artifacts)
    print(json.dumps(results, indent=2))
    return 0
