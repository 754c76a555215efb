"""`dart tiny-models --out DIR [--pretrain]`: build the offline tiny target and mapper.

    dart tiny-models --out tiny-models                      # untrained, < 2 s (plumbing tests)
    dart tiny-models --out tiny-models --pretrain           # the shipped pre-trained pair, < 1 s
    dart tiny-models --out DIR --pretrain --rebuild         # trained from the recipe, ~14 min

Either way DIR/target and DIR/mapper load with `from_pretrained(path)` like any model. The
pre-trained pair ships with DART (dart.models.shipped); --rebuild trains it again from the
recipe and checks it against the acceptance gates.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dart.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tiny-models",
        help="build the tiny target and mapper models (optionally pre-trained) in a folder",
        description="Build DIR/target and DIR/mapper: tiny Llama-style models with their own "
                    "tokenizer, untrained, or pre-trained on the synthetic task (--pretrain).",
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--pretrain", action="store_true",
                        help="pre-train the target on native-style old skills and the mapper on "
                             "rewriting them: a copy of the shipped pair when the recipe "
                             "matches, else built (cached by the recipe's fingerprint)")
    parser.add_argument("--rebuild", action="store_true",
                        help="with --pretrain: train from the recipe even when the shipped "
                             "pair matches it, then check the acceptance gates")
    parser.add_argument("--seed", type=int, default=0, help="initialisation and data seed")
    parser.add_argument("--threads", type=int, default=1, choices=(1, 2),
                        help="torch threads (1 is fastest on a busy 2-core machine)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.rebuild and not args.pretrain:
        raise UserError("--rebuild rebuilds the pre-trained pair: add --pretrain")
    if args.pretrain:
        from dart.models.pretrain import PretrainRecipe
        from dart.models.shipped import AcceptanceFailed, install_tiny_models

        try:
            install_tiny_models(args.out, PretrainRecipe(seed=args.seed), rebuild=args.rebuild,
                                threads=args.threads, progress=lambda line: print(line, flush=True))
        except AcceptanceFailed as failure:
            print(f"error: {failure}", file=sys.stderr)
            return 1
        return 0
    from dart.models.tiny import build_tiny_model

    for name, offset in (("target", 0), ("mapper", 1)):
        path = build_tiny_model(args.out / name, size=name, seed=args.seed + offset)
        print(f"{name}: untrained tiny model -> {path}", flush=True)
    return 0
