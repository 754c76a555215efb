"""`dart learn`: train the mapper with GRPO against the frozen target.

    dart learn --config examples/01-quickstart.yaml --artifacts runs/quickstart
    dart learn --config /etc/dart/dartrun.yaml --artifacts /artifacts \
        --generator gen:50051 --scorer scorer:50051          # in a cluster

Without --generator/--scorer both servers are started here as child processes. A finished
stage (weights/final is marked done) is skipped; an interrupted one resumes from its checkpoint.
"""

from __future__ import annotations

import argparse

from dart.artifacts import Artifacts
from dart.cli.common import add_server_arguments, add_stage_parser
from dart.config.load import load_dartrun


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_stage_parser(
        subparsers, "learn", help="train the mapper with GRPO (stage 1)",
        description="Train the mapper with GRPO; resumes from the latest checkpoint.")
    add_server_arguments(parser)
    parser.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dart.learn.stage import learn_stage_done, run_learn_stage

    spec = load_dartrun(args.config).spec
    if learn_stage_done(args.artifacts):
        print(f"learn: already done ({Artifacts(args.artifacts).learn().final}); skipping")
        return 0
    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port)
    from dart.local.servers import given_or_local_servers

    servers = given_or_local_servers(args.generator, args.scorer, spec,
                                     Artifacts(args.artifacts).servers())
    with servers as (generator, scorer):
        final = run_learn_stage(spec, args.artifacts, generator, scorer)
    print(f"learn: done; trained mapper weights in {final}")
    return 0
