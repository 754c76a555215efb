"""`dart tiny-models --out DIR [--pretrain]`: build the offline tiny target and mapper.

    dart tiny-models --out tiny-models                      # untrained, < 2 s (plumbing tests)
    dart tiny-models --out tiny-models --pretrain           # the shipped pre-trained pair, < 1 s
    dart tiny-models --out DIR --pretrain --target-style opword-boxed   # a target in that style
    dart tiny-models --out DIR --pretrain --rebuild         # trained from the recipe

Either way DIR/target and DIR/mapper load with `from_pretrained(path)` like any model. The
pre-trained models ship with DART (dart.models.shipped); a target style that is not shipped,
or --rebuild, trains from the recipe (tens of minutes on 2 cores) and checks the acceptance
gates. The mapper is the same general rewriter whatever the target's style.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dart.data.synthetic.repertoire import REPERTOIRE
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
                        help="pre-train the target on old skills in its style and the mapper on "
                             "rewriting them into every style: a copy of the shipped models "
                             "when the recipe matches, else built")
    parser.add_argument("--target-style", default="native", choices=list(REPERTOIRE),
                        help="the repertoire member the target is pre-trained in (its native "
                             "style; default: native)")
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
            recipe = PretrainRecipe(seed=args.seed, target_style=args.target_style)
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
