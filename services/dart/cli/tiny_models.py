"""`dart tiny-models --out DIR [--pretrain]`: build the offline tiny target and mapper.

    dart tiny-models --out tiny-models             # untrained, < 2 s (servers, plumbing tests)
    dart tiny-models --out tiny-models --pretrain  # pre-trained, a few minutes on 2 cores

Either way DIR/target and DIR/mapper load with `from_pretrained(path)` like any model. The
pre-trained pair is cached: a second run with the same recipe returns at once.
"""

from __future__ import annotations

import argparse
from pathlib import Path


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
                             "rewriting them (cached by the recipe's fingerprint)")
    parser.add_argument("--seed", type=int, default=0, help="initialisation and data seed")
    parser.add_argument("--threads", type=int, default=1, choices=(1, 2),
                        help="torch threads (1 is fastest on a busy 2-core machine)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.pretrain:
        from dart.models.pretrain import PretrainRecipe, pretrain_tiny_models

        pretrain_tiny_models(args.out, PretrainRecipe(seed=args.seed), threads=args.threads,
                             progress=lambda line: print(line, flush=True))
        return 0
    from dart.models.tiny import build_tiny_model

    for name, offset in (("target", 0), ("mapper", 1)):
        path = build_tiny_model(args.out / name, size=name, seed=args.seed + offset)
        print(f"{name}: untrained tiny model -> {path}", flush=True)
    return 0
