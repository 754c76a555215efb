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

from dart import interrupts, logs
from dart.errors import UserError
from dart.quiet import keep_compiled_ops_per_environment, quiet_libraries
from dart.serving.errors import InferenceError

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
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of an error instead of one line")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"dart.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command; user mistakes exit 2 with one line per problem."""
    args = build_parser().parse_args(argv)
    logs.configure(stage=_stage_of(args))
    quiet_libraries(verbose=getattr(args, "verbose", False))
    keep_compiled_ops_per_environment()
    # SIGTERM (kubectl delete, a Job's deadline) unwinds like Ctrl-C: child servers are
    # stopped and files closed. `dart serve` installs its own draining handler over this.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    interrupts.install()
    try:
        return args.run(args) or 0
    except UserError as error:
        if args.debug:
            raise
        for line in error.lines():
            print(logs.error_line(line), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (InferenceError, OSError) as error:  # infrastructure, not a bug: say what failed
        if args.debug:
            raise
        print(logs.error_line(f"{_infrastructure_sentence(error)} (--debug shows the "
                              "traceback)"), file=sys.stderr)
        return 1


def _stage_of(args: argparse.Namespace) -> str:
    """The stage a log line names: the unit (`dart unit sft-dart-0`), the server role, or
    the command."""
    if args.command == "unit":
        return args.name
    if args.command == "serve":
        return f"serve-{args.role}"
    return args.command


def _infrastructure_sentence(error: Exception) -> str:
    """A failed server call or a failed disk operation in one line."""
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror or error}"
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
