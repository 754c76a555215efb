"""`dart validate FILE`: check a DartRun and print it with every default filled in."""

from __future__ import annotations

import argparse

import yaml

from dart.config.load import load_dartrun


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check a DartRun file; print the normalised spec or one line per problem",
        description="Exit 0 and print the normalised DartRun, or exit 2 listing every problem.",
    )
    parser.add_argument("file", help="DartRun YAML file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    dartrun = load_dartrun(args.file)
    print(yaml.safe_dump(dartrun.model_dump(mode="json", by_alias=True), sort_keys=False), end="")
    return 0
