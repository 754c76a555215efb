"""`dart synthesize`: the adapted dataset from the trained mapper (stage 2).

    dart synthesize --config examples/01-quickstart.yaml --artifacts runs/quickstart
    dart synthesize --config /etc/dart/dartrun.yaml --artifacts /artifacts \
        --shard $JOB_COMPLETION_INDEX/8 --generator gen:50051 --scorer scorer:50051

Writes artifacts/synthesize/shards/shard-I-of-N.jsonl; the process that finds every shard
done merges them into artifacts/synthesize/adapted.{jsonl,parquet} and summary.json.
"""

from __future__ import annotations

import argparse
import json

from dart.artifacts import Artifacts
from dart.cli.common import add_server_arguments, add_stage_parser
from dart.config.load import load_dartrun


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_stage_parser(
        subparsers, "synthesize", help="rewrite every demonstration with the trained mapper "
        "(stage 2)", description="Write this shard of the adapted dataset; merge when all "
        "shards exist.")
    parser.add_argument("--shard", default=None, help="INDEX/COUNT (default 0/1, or every "
                        "shard of spec.synthesize.shards when run locally)")
    add_server_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dart.synthesize.shards import parse_shard
    from dart.synthesize.stage import run_synthesize_stage, synthesize_done

    spec = load_dartrun(args.config).spec
    if synthesize_done(args.artifacts):
        print("synthesize: already done; skipping")
        return 0
    count = spec.synthesize.shards
    shards = [parse_shard(args.shard)] if args.shard else [(i, count) for i in range(count)]
    from dart.local.servers import given_or_local_servers

    servers = given_or_local_servers(args.generator, args.scorer, spec,
                                     Artifacts(args.artifacts).servers())
    with servers as (generator, scorer):
        for shard in shards:
            summary = run_synthesize_stage(spec, args.artifacts, shard, generator, scorer)
    if summary:
        print("synthesize: done\n" + json.dumps(summary, indent=2))
    return 0
