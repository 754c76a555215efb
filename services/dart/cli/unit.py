"""`dart unit`: one unit of the run's plan (dart.plan), as a Job of the operator runs it.

    dart unit learn --config /etc/dart/dartrun.yaml --artifacts /artifacts \
        --generator gen:50051 --scorer scorer:50051
    dart unit sft-original-1 --config examples/01-quickstart.yaml --artifacts runs/quickstart

`dart run` runs every unit in order; this runs one, skipped when an earlier run finished it.
Units that need servers are given their addresses (a cluster) or start them here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dart.cli.common import add_server_arguments
from dart.config.load import load_dartrun
from dart.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "unit", help="run one unit of the plan (what an operator Job runs)",
        description="Run one unit of the run's plan: learn, synthesize, synth-<ablation>, "
        "learn-no-penalties, direct-rl, sft-<arm>-<seed>, evaluate or report.")
    parser.add_argument("name", help="unit name (an unknown name lists the plan's units)")
    parser.add_argument("--config", required=True, help="DartRun YAML file")
    parser.add_argument("--artifacts", required=True, type=Path,
                        help="artifacts folder")
    parser.add_argument("--shard", help="INDEX/COUNT: one synthesize shard (default: all)")
    parser.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port")
    parser.add_argument("--summary-file", type=Path, help="report: also write the results "
                        "summary here (a Job's /dev/termination-log, read by the operator)")
    add_server_arguments(parser)
    parser.set_defaults(run=run)


def find_unit(spec, name: str):
    from dart.plan import by_name, plan

    units = by_name(plan(spec))
    if name not in units:
        raise UserError(f"this spec's plan has no unit {name!r}; its units are "
                        f"{', '.join(units)}")
    return units[name]


def run(args: argparse.Namespace) -> int:
    from dart.local.units import unit_done

    spec = load_dartrun(args.config).spec
    unit = find_unit(spec, args.name)
    if unit_done(spec, args.artifacts, unit):
        print(f"{unit.name}: already done; skipping")
        return 0
    _run(spec, unit, args)
    if args.summary_file and unit.stage == "report":
        from dart.local.units import write_summary

        write_summary(args.artifacts, args.summary_file)
    print(f"{unit.name}: done")
    return 0


def _run(spec, unit, args: argparse.Namespace) -> None:
    from dart.local.units import run_unit

    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port)
    shards = None
    if args.shard:
        from dart.synthesize.shards import parse_shard

        shards = [parse_shard(args.shard)[0]]
    if unit.servers is None or args.generator:
        run_unit(spec, args.artifacts, unit, args.generator, args.scorer, shards)
    else:
        from dart.local.pipeline import servers_for

        with servers_for(spec, args.artifacts, unit) as (generator, scorer):
            run_unit(spec, args.artifacts, unit, generator, scorer, shards)
