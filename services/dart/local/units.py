"""One plan unit run in this process: the stage call for its stage and arm.

The same function serves `dart run` (servers started here, see dart.local.pipeline) and a
Job in a cluster (`dart unit NAME`, servers given by address). Stage modules are imported
only by the unit that needs them: a report does not load torch."""

from __future__ import annotations

import sys
from pathlib import Path

from dart.arms import ablation_spec
from dart.artifacts import Artifacts
from dart.config.spec import DartRunSpec
from dart.plan import Unit


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
    """Run one unit; served stages talk to the servers at `generator`/`scorer`;
    `shards`: which synthesize shards (default all)."""
    stage_spec = unit_spec(spec, unit)
    if unit.stage == "learn":
        from dart.learn.stage import run_learn_stage

        run_learn_stage(stage_spec, variant_root(out, unit), generator, scorer)
    elif unit.stage == "synthesize":
        from dart.synthesize.stage import run_synthesize_stage

        for index in shards if shards is not None else range(unit.shards):
            run_synthesize_stage(stage_spec, variant_root(out, unit), (index, unit.shards),
                                 generator, scorer, on_progress=on_progress,
                                 untrained=unit.untrained, rule=unit.rule)
    elif unit.stage == "direct-rl":
        from dart.learn.direct_rl import run_direct_rl_stage

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
