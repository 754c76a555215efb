"""The work a run needs, derived from its spec: one list of units both runners execute.

    learn -> synthesize                       the `dart` arm's data
    learn-no-penalties -> synth-no-penalties  an ablation that learns again
    synth-no-rl, synth-grape, synth-grape-kN  ablations that rewrite with the untrained mapper
    direct-rl                                 GRPO on the target itself
    sft-<arm>-<seed>                          one per SFT arm and evaluation seed
    evaluate -> report                        every model on every set, then report/

`dart run` (dart.local.pipeline) runs the units in this order in one process; the operator
turns each into a Job, starting every unit whose dependencies are done (so the SFT arms run
side by side). A unit's `reads` are the spec sections its outputs depend on, its own and its
dependencies': a started unit refuses edits to any of them. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

from dart.arms import DART, DIRECT_RL, is_adapted, sft_arms, untrained_rule
from dart.artifacts.layout import Artifacts
from dart.config.spec import DartRunSpec

_ROOT = Path(".")  # layout paths relative to the artifacts folder
_MODEL_INPUTS = ("models", "dataset", "verifier")
_OWN_READS = {
    "learn": (*_MODEL_INPUTS, "learn"),
    "direct-rl": (*_MODEL_INPUTS, "learn"),
    # synthesis samples with learn's sampling settings and scores with learn's reward
    "synthesize": (*_MODEL_INPUTS, "learn", "synthesize"),
    # sft keeps evaluate.curvePoints models on its first seed; compare names the arms
    "sft": (*_MODEL_INPUTS, "sft", "evaluate", "compare"),
    "evaluate": (*_MODEL_INPUTS, "evaluate", "compare"),
    "report": ("evaluate", "compare"),
}
RESOURCES_OF_STAGE = {"learn": "learn", "direct-rl": "learn", "synthesize": "synthesize",
                      "sft": "sft", "evaluate": "evaluate", "report": "evaluate"}


@dataclass(frozen=True)
class Unit:
    """One piece of work: a stage run for one arm (and seed)."""

    name: str
    """Unique in the run and a DNS label suffix (the operator's Job is `<run>-<name>`)."""
    stage: str
    """learn, synthesize, direct-rl, sft, evaluate or report."""
    arm: str = DART
    seed: int = 0
    needs: tuple[str, ...] = ()
    """Names of the units whose outputs this one reads."""
    reads: tuple[str, ...] = ()
    """Spec sections its outputs depend on (its own and its dependencies')."""
    writes: tuple[str, ...] = ()
    """Its outputs, relative to the artifacts folder."""
    resources: str = "evaluate"
    """The `spec.resources` component its pods get (learn = the learner's)."""
    servers: str | None = None
    """The inference servers it talks to: `mapper` (generator = the arm's mapper, learnt or
    loaded; scorer = the target), `untrained` (a fresh generator that never loaded weights,
    and the scorer), `target` (a generator sampling the target, no scorer), or None."""
    shards: int = 1
    """Independent completions (synthesize: one per shard)."""
    rule: str = "gated"
    """How synthesize picks a rewrite (dart.synthesize.select.SELECTION_RULES)."""

    @property
    def untrained(self) -> bool:
        return self.servers == "untrained"


def _sft_name(arm: str, seed: int) -> str:
    return f"sft-{arm.removeprefix('sft-')}-{seed}"


def data_units(arm: str, spec: DartRunSpec) -> list[Unit]:
    """learn + synthesize of an adapted arm (synthesize alone for the untrained ones)."""
    layout = Artifacts(_ROOT)
    learn_name = "learn" if arm == DART else f"learn-{arm}"
    synth_name = "synthesize" if arm == DART else f"synth-{arm}"
    rule = untrained_rule(arm)
    synth = Unit(synth_name, "synthesize", arm, writes=(str(layout.synthesize(arm).root),),
                 servers="mapper" if rule is None else "untrained",
                 shards=spec.synthesize.shards, rule=rule or "gated")
    if rule is not None:
        return [synth]
    learn = Unit(learn_name, "learn", arm, writes=(str(layout.learn(arm).root),),
                 servers="mapper")
    return [learn, replace(synth, needs=(learn_name,))]


def sft_units(spec: DartRunSpec, data: dict[str, str]) -> list[Unit]:
    """One SFT run per arm and evaluation seed; adapted arms wait for their data."""
    layout = Artifacts(_ROOT)
    return [Unit(_sft_name(arm, seed), "sft", arm, seed,
                 needs=(data[arm],) if is_adapted(arm) else (),
                 writes=(str(layout.sft(arm, seed).root),))
            for arm in sft_arms(spec) for seed in range(spec.evaluate.seeds)]


def plan(spec: DartRunSpec) -> list[Unit]:
    """Every unit the spec needs, in an order that runs dependencies first."""
    layout = Artifacts(_ROOT)
    units = data_units(DART, spec)
    for ablation in spec.compare.ablations:
        units += data_units(ablation, spec)
    data = {u.arm: u.name for u in units if u.stage == "synthesize"}
    if DIRECT_RL in spec.compare.arms:
        units.append(Unit(DIRECT_RL, "direct-rl", DIRECT_RL, writes=(str(layout.direct_rl),),
                          servers="target"))
    units += sft_units(spec, data)
    trained = tuple(u.name for u in units if u.stage in ("sft", "direct-rl"))
    units.append(Unit("evaluate", "evaluate", needs=trained, writes=(str(layout.evaluate),)))
    units.append(Unit("report", "report", needs=("evaluate",),
                      writes=(str(layout.report_dir),)))
    return _with_reads_and_resources(units)


def _with_reads_and_resources(units: list[Unit]) -> list[Unit]:
    """Each unit reads its own sections and every section its dependencies read."""
    done: dict[str, Unit] = {}
    for unit in units:
        reads = set(_OWN_READS[unit.stage])
        for need in unit.needs:
            reads |= set(done[need].reads)
        done[unit.name] = replace(unit, reads=tuple(sorted(reads)),
                                  resources=RESOURCES_OF_STAGE[unit.stage])
    return list(done.values())


def fingerprint(spec: DartRunSpec, unit: Unit) -> str:
    """Hash of the spec sections a unit reads: stamped on its Job, so a later edit to any of
    them is seen (and refused) while the unit's outputs exist."""
    dumped = spec.model_dump(mode="json", by_alias=False)
    picked = {section: dumped[section] for section in unit.reads}
    text = json.dumps(picked, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def by_name(units: list[Unit]) -> dict[str, Unit]:
    return {unit.name: unit for unit in units}
