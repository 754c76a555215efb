"""Every stage of a run on one machine, each skipped once done:

    learn -> synthesize (dart) -> each ablation's data -> direct-rl -> sft (every SFT arm and
    seed) -> evaluate -> report

The inference servers live only while a stage that needs them runs; an ablation or the
direct-rl arm gets servers of its own (a fresh generator holds the untrained mapper, or the
target)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from dart import interrupts
from dart.arms import DIRECT_RL, ablation_spec, direct_rl_root, pipeline_root
from dart.config.spec import DartRunSpec
from dart.learn.stage import learn_stage_done, run_learn_stage
from dart.local.servers import local_servers, local_target_generator
from dart.synthesize.stage import run_synthesize_stage, synthesize_done

UNTRAINED_RULES = {"no-rl": "gated", "grape": "grape"}  # ablations with the untrained mapper


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _synthesize_progress():
    started = time.monotonic()

    def report(done: int, total: int) -> None:
        rate = done / max(time.monotonic() - started, 1e-9)
        print(f"\rsynthesize: {done}/{total} demonstrations ({rate:.1f}/s)", end="",
              file=sys.stderr, flush=True)

    return report


def _synthesize_all(spec: DartRunSpec, out: Path, generator: str, scorer: str, **how) -> None:
    count = spec.synthesize.shards
    for index in range(count):
        run_synthesize_stage(spec, out, (index, count), generator, scorer,
                             on_progress=_synthesize_progress(), **how)
    print(file=sys.stderr)


def run_model_stages(spec: DartRunSpec, out: Path) -> None:
    """learn, then synthesize: the stages that talk to the generator and scorer."""
    if learn_stage_done(out) and synthesize_done(out):
        _log("learn, synthesize: already done; skipping")
        return
    with local_servers(spec, out / "servers") as (generator, scorer):
        if learn_stage_done(out):
            _log("learn: already done; skipping")
        else:
            _log("learn: GRPO on the mapper")
            run_learn_stage(spec, out, generator, scorer)
        _synthesize_all(spec, out, generator, scorer)


def run_ablation(name: str, spec: DartRunSpec, out: Path) -> None:
    """An ablation's adapted data, in out/ablations/<name>: a mapper learnt without
    penalties (no-penalties), or the untrained mapper's rewrites (no-rl, grape)."""
    root, variant = pipeline_root(out, name), ablation_spec(spec, name)
    if name not in UNTRAINED_RULES:
        run_model_stages(variant, root)
    elif synthesize_done(root):
        _log(f"{name}: already done; skipping")
    else:
        with local_servers(variant, root / "servers") as (generator, scorer):
            _synthesize_all(variant, root, generator, scorer, untrained=True,
                            rule=UNTRAINED_RULES[name])


def run_direct_rl(spec: DartRunSpec, out: Path) -> None:
    from dart.learn.direct_rl import direct_rl_done, run_direct_rl_stage

    if direct_rl_done(out):
        _log("direct-rl: already done; skipping")
        return
    learn = spec.learn
    _log(f"direct-rl: GRPO on the target with the correctness reward, {learn.steps} steps x "
         f"{learn.batch_size} questions x {learn.group_size} samples")
    with local_target_generator(spec, direct_rl_root(out) / "servers") as generator:
        run_direct_rl_stage(spec, out, generator)


def run_sft(spec: DartRunSpec, out: Path) -> None:
    from dart.sft.stage import run_sft_stage

    run_sft_stage(spec, out, log=_log)


def run_evaluate(spec: DartRunSpec, out: Path) -> None:
    from dart.evaluate.stage import run_evaluate_stage

    run_evaluate_stage(spec, out, log=_log)


def stage_plan(spec: DartRunSpec) -> list[tuple[str, Callable[[DartRunSpec, Path], None]]]:
    """(name, run(spec, out)) for every stage this spec needs, in order."""
    plan = [("learn + synthesize", run_model_stages)]
    plan += [(f"ablation {name}", partial(run_ablation, name)) for name in spec.compare.ablations]
    if DIRECT_RL in spec.compare.arms:
        plan.append((DIRECT_RL, run_direct_rl))
    return plan + [("sft", run_sft), ("evaluate", run_evaluate)]


def run_pipeline(spec: DartRunSpec, out: Path) -> Path:
    from dart.report.markdown import write_report

    plan = stage_plan(spec)
    for number, (name, run) in enumerate(plan, 1):
        interrupts.raise_if_requested()
        _log(f"\n== {number}/{len(plan)} {name} ({time.strftime('%H:%M:%S')})")
        run(spec, out)
    interrupts.raise_if_requested()
    return write_report(out)
