"""`dart learn`: train the mapper with GRPO against the frozen target.

    dart learn --config examples/01-quickstart.yaml --artifacts runs/quickstart
    dart learn --config /etc/dart/dartrun.yaml --artifacts /artifacts \
        --generator gen:50051 --scorer scorer:50051          # in a cluster

Without --generator/--scorer both servers are started here as child processes. A finished
stage (weights/final is marked done) is skipped; an interrupted one resumes from its checkpoint.
"""

from __future__ import annotations

import argparse
import contextlib

from dart.artifacts import Artifacts
from dart.cli.common import add_server_arguments, add_stage_parser
from dart.config.load import load_dartrun
from dart.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_stage_parser(
        subparsers, "learn", help="train the mapper with GRPO (stage 1)",
        description="Train the mapper with GRPO; resumes from the latest checkpoint.")
    add_server_arguments(parser)
    parser.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dart.learn import ranks
    from dart.learn.stage import learn_stage_done, run_learn_stage

    spec = load_dartrun(args.config).spec
    if learn_stage_done(args.artifacts):
        print(f"learn: already done ({Artifacts(args.artifacts).learn().final}); skipping")
        return 0
    if args.metrics_port and ranks.is_main():
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port)
    ranks.init_process_group()
    from dart import tracking

    with _servers_for_every_rank(args, spec) as (generator, scorer), \
            tracking.tracked(spec, args.artifacts, "learn"):
        final = run_learn_stage(spec, args.artifacts, generator, scorer)
    if ranks.is_main():
        print(f"learn: done; trained mapper weights in {final}")
    return 0


@contextlib.contextmanager
def _servers_for_every_rank(args: argparse.Namespace, spec):
    """The servers' addresses on every rank. When `dart learn` starts them itself, rank 0
    alone does, and broadcasts where they listen: one pair serves all ranks, as the
    operator's Deployments do, without a launcher around torchrun. They listen on loopback,
    so every rank must be on rank 0's machine; across nodes, give --generator/--scorer."""
    from dart.learn import ranks
    from dart.local.servers import given_or_local_servers

    if not (args.generator or args.scorer) and not ranks.single_node():
        raise UserError("a learner on several nodes cannot start its own servers: give "
                        "--generator and --scorer")
    if not ranks.is_main():
        addresses = ranks.broadcast_from_main(None)
        if addresses is None:
            raise UserError("rank 0 could not start the generator and scorer; see its log")
        yield addresses
        ranks.barrier()  # rank 0 stops the servers once every rank is done with them
        return
    announced = False
    try:
        with given_or_local_servers(args.generator, args.scorer, spec,
                                    Artifacts(args.artifacts).servers()) as addresses:
            ranks.broadcast_from_main(addresses)
            announced = True
            yield addresses
            ranks.barrier()
    except BaseException:
        if not announced:  # the other ranks are waiting for addresses: release them
            ranks.broadcast_from_main(None)
        raise
