"""The `dart` command line.

    dart validate examples/01-quickstart.yaml   # check a DartRun, print it normalised
    dart crd > charts/dart/crds/dartruns.dart.ai.yaml

Each sub-command lives in its own module under `dart.cli` with a `register(subparsers)`
function; modules import their heavy dependencies (torch, grpc) only when they run.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

from dart import interrupts
from dart.errors import UserError
from dart.quiet import quiet_libraries

# Modules under dart.cli, in the order `dart --help` lists them.
COMMAND_MODULES = (
    "validate", "crd", "serve", "learn", "synthesize", "sft", "evaluate", "run", "unit",
    "status", "tiny_models",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dart",
        description="DART: adapt an SFT dataset to a target model with an RL-trained mapper.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"dart.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command; user mistakes exit 2 with one line per problem."""
    args = build_parser().parse_args(argv)
    quiet_libraries(verbose=getattr(args, "verbose", False))
    # SIGTERM (kubectl delete, a Job's deadline) unwinds like Ctrl-C: child servers are
    # stopped and files closed. `dart serve` installs its own draining handler over this.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    interrupts.install()
    try:
        return args.run(args) or 0
    except UserError as error:
        for line in error.lines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
