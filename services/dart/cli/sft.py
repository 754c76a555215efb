"""`dart sft`: fine-tune the target once per SFT arm and seed (dart, compare.arms, ablations).

    dart sft --config examples/01-quickstart.yaml --artifacts runs/quickstart

Writes artifacts/sft/<arm>/seed-<i>/model (loadable by path) and stats.json; finished
(arm, seed) pairs are skipped. The ablations' and dart's data must exist (`dart run`).
"""

from __future__ import annotations

import argparse
import json

from dart.cli.common import add_stage_parser
from dart.config.load import load_dartrun


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_stage_parser(
        subparsers, "sft", help="fine-tune the target on the adapted (and original) data "
        "(stage 3)", description="TRL SFT of the target per arm and seed: dart, "
        "sft-original / sft-oracle and the ablations as spec.compare says.")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dart import tracking
    from dart.sft.stage import run_sft_stage
    from dart.sft.train import is_main_process

    spec = load_dartrun(args.config).spec
    with tracking.tracked(spec, args.artifacts, "sft"):
        results = run_sft_stage(spec, args.artifacts)
    if is_main_process():  # under torchrun, once
        print(json.dumps(results, indent=2))
    return 0
