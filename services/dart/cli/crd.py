"""`dart crd`: print the DartRun CustomResourceDefinition generated from the spec models."""

from __future__ import annotations

import argparse

from dart.config.crd import crd, render_yaml


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "crd",
        help="print the DartRun CRD (the chart's crds/ copy must equal it)",
        description="Print the CustomResourceDefinition generated from the pydantic models.",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    print(render_yaml(crd()), end="")
    return 0
