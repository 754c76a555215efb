"""`dart tiny-models --out DIR [--pretrain]`: build the offline tiny targets and mapper.

    dart tiny-models --out tiny-models                      # untrained, < 2 s (plumbing tests)
    dart tiny-models --out tiny-models --pretrain           # the shipped pre-trained models, < 1 s
    dart tiny-models --out DIR --pretrain --target-style opword   # + a target in that member
    dart tiny-models --out DIR --pretrain --rebuild         # trained from the recipe, ~40 min

Every folder (DIR/target, DIR/target-MEMBER, DIR/mapper) loads with `from_pretrained(path)`
like any model. The pre-trained models ship with DART (dart.models.shipped); what the recipe
asks for that is not shipped is trained and checked against the acceptance gates.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dart.data.synthetic.repertoire import TARGET_STYLES
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
                        help="pre-train the targets, each in its own member of the repertoire, "
                             "and the general mapper: copies of the shipped models the recipe "
                             "matches, the rest built and accepted by the gates")
    parser.add_argument("--rebuild", action="store_true",
                        help="with --pretrain: train from the recipe even when the shipped "
                             "models match it, then check the acceptance gates")
    parser.add_argument("--target-style", action="append", metavar="MEMBER",
                        help="with --pretrain: a member of the repertoire to pre-train a target "
                             "in (DIR/target for native, else DIR/target-MEMBER); repeat for "
                             "several (default: " + ", ".join(TARGET_STYLES) + ")")
    parser.add_argument("--seed", type=int, default=0, help="initialisation and data seed")
    parser.add_argument("--threads", type=int, default=1, choices=(1, 2),
                        help="torch threads (1 is fastest on a busy 2-core machine)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if (args.rebuild or args.target_style) and not args.pretrain:
        raise UserError("--rebuild and --target-style are about pre-trained models: add --pretrain")
    if args.pretrain:
        from dart.models.pretrain import PretrainRecipe
        from dart.models.shipped import AcceptanceFailed, install_tiny_models

        styles = tuple(dict.fromkeys(args.target_style or TARGET_STYLES))
        recipe = PretrainRecipe(seed=args.seed, target_styles=styles)
        try:
            install_tiny_models(args.out, recipe, rebuild=args.rebuild,
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
