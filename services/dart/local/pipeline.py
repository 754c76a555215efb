"""learn -> synthesize -> sft -> evaluate -> report on one machine, each stage skipped once
done. The inference servers live only while a stage that needs them runs."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from dart.config.spec import DartRunSpec
from dart.learn.stage import learn_stage_done, run_learn_stage
from dart.local.servers import local_servers
from dart.synthesize.stage import run_synthesize_stage, synthesize_done


def _banner(number: int, stage: str) -> None:
    print(f"\n== {number}/4 {stage} ({time.strftime('%H:%M:%S')})", file=sys.stderr, flush=True)


def _synthesize_progress():
    started = time.monotonic()

    def report(done: int, total: int) -> None:
        rate = done / max(time.monotonic() - started, 1e-9)
        print(f"\rsynthesize: {done}/{total} demonstrations ({rate:.1f}/s)", end="",
              file=sys.stderr, flush=True)

    return report


def run_model_stages(spec: DartRunSpec, out: Path) -> None:
    """The stages that talk to the generator and scorer."""
    if learn_stage_done(out) and synthesize_done(out):
        print("learn, synthesize: already done; skipping", file=sys.stderr)
        return
    with local_servers(spec, out / "servers") as (generator, scorer):
        _banner(1, "learn")
        if learn_stage_done(out):
            print("learn: already done; skipping", file=sys.stderr)
        else:
            run_learn_stage(spec, out, generator, scorer)
        _banner(2, "synthesize")
        count = spec.synthesize.shards
        for index in range(count):
            run_synthesize_stage(spec, out, (index, count), generator, scorer,
                                 on_progress=_synthesize_progress())
        print(file=sys.stderr)


def run_pipeline(spec: DartRunSpec, out: Path) -> Path:
    from dart.evaluate.stage import results_path, run_evaluate_stage
    from dart.report.markdown import write_report
    from dart.sft.stage import run_sft_stage

    log = _stderr_log
    run_model_stages(spec, out)
    _banner(3, "sft")
    run_sft_stage(spec, out, log=log)
    _banner(4, "evaluate")
    if not results_path(out).exists():
        run_evaluate_stage(spec, out, log=log)
    else:
        log("evaluate: already done; skipping")
    return write_report(out)


def _stderr_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
