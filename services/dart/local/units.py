"""One plan unit run in this process: the stage call for its stage and arm.

The same function serves `dart run` (servers started here, see dart.local.pipeline) and a
Job in a cluster (`dart unit NAME`, servers given by address). Stage modules are imported
only by the unit that needs them: a report does not load torch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dart import tracking
from dart.arms import ablation_spec
from dart.artifacts import Artifacts, read_json
from dart.config.spec import DartRunSpec
from dart.plan import Unit

TRACKED_STAGES = ("learn", "direct-rl", "sft", "evaluate")
"""The stages with figures for an experiment tracker; the others open no tracker run."""


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def unit_spec(spec: DartRunSpec, unit: Unit) -> DartRunSpec:
    """The spec the unit's stage runs with (an ablation changes the reward)."""
    return ablation_spec(spec, unit.arm) if unit.stage in ("learn", "synthesize") else spec


def variant_root(out: Path, unit: Unit) -> Path:
    """The folder a learn or synthesize unit treats as its artifacts (an ablation's own)."""
    return Artifacts(out).variant(unit.arm)


def unit_done(spec: DartRunSpec, out: Path, unit: Unit) -> bool:
    """Finished by an earlier run (its marker is there); evaluate and report are redone
    (cheap: evaluate caches every model's scores)."""
    if unit.stage == "learn":
        from dart.learn.stage import learn_stage_done

        return learn_stage_done(variant_root(out, unit))
    if unit.stage == "synthesize":
        from dart.synthesize.stage import synthesize_done

        return synthesize_done(variant_root(out, unit))
    if unit.stage == "direct-rl":
        from dart.learn.direct_rl import direct_rl_done

        return direct_rl_done(out)
    if unit.stage == "sft":
        from dart.sft.stage import sft_run_done

        return sft_run_done(out, unit.arm, unit.seed)
    return False


def run_unit(spec: DartRunSpec, out: Path, unit: Unit, generator: str | None = None,
             scorer: str | None = None, shards: list[int] | None = None,
             on_progress=None) -> None:
    """Run one unit (one tracker run when the spec has `tracking:`); served stages talk to
    the servers at `generator`/`scorer`; `shards`: which synthesize shards (default all)."""
    if unit.stage not in TRACKED_STAGES:
        return _run_stage(spec, out, unit, generator, scorer, shards, on_progress)
    with tracking.tracked(spec, out, unit.name):
        _run_stage(spec, out, unit, generator, scorer, shards, on_progress)


def _run_stage(spec: DartRunSpec, out: Path, unit: Unit, generator: str | None,
               scorer: str | None, shards: list[int] | None, on_progress) -> None:
    stage_spec = unit_spec(spec, unit)
    if unit.stage == "learn":
        from dart.learn.stage import run_learn_stage

        _log(f"{unit.name}: GRPO on the mapper")
        run_learn_stage(stage_spec, variant_root(out, unit), generator, scorer)
    elif unit.stage == "synthesize":
        from dart.synthesize.stage import run_synthesize_stage

        for index in shards if shards is not None else range(unit.shards):
            run_synthesize_stage(stage_spec, variant_root(out, unit), (index, unit.shards),
                                 generator, scorer, on_progress=on_progress,
                                 untrained=unit.untrained, rule=unit.rule)
    elif unit.stage == "direct-rl":
        from dart.learn.direct_rl import run_direct_rl_stage

        learn = spec.learn
        _log(f"direct-rl: GRPO on the target with the correctness reward, {learn.steps} steps "
             f"x {learn.batch_size} questions x {learn.group_size} samples")
        run_direct_rl_stage(spec, out, generator)
    elif unit.stage == "sft":
        from dart.sft.stage import run_sft_unit

        run_sft_unit(spec, out, unit.arm, unit.seed, log=_log)
    elif unit.stage == "evaluate":
        from dart.evaluate.stage import run_evaluate_stage

        run_evaluate_stage(spec, out, log=_log)
    else:
        from dart.report.markdown import write_report

        write_report(out)
        if spec.export is not None:
            from dart.report.export import export_products

            export_products(spec, out, log=_log)


SUMMARY_BYTES = 4096
"""A container's termination message holds at most 4096 bytes: where the operator reads
the summary from (it cannot read the artifacts volume)."""


def _compact(summary: dict) -> str:
    return json.dumps(summary, separators=(",", ":"))


def write_summary(out: Path, path: Path) -> str:
    """The results summary (evaluate/results.json's), compact, into `path`. What would not
    fit a termination message is left out: first the seed lists, then the per-arm table
    (the headline and verdict always stay; report/ has everything)."""
    summary = read_json(Artifacts(out).results)["summary"]
    if len(_compact(summary).encode()) > SUMMARY_BYTES:
        for scores in summary["arms"].values():
            for score in scores.values():
                score["seeds"] = []
    if len(_compact(summary).encode()) > SUMMARY_BYTES:
        summary["arms"] = {}
    path.write_text(_compact(summary))
    return _compact(summary)
