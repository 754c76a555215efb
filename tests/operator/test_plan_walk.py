"""Both runners run one plan: a DartRun with every arm and ablation walks to Succeeded with
exactly the plan's Jobs, and a started unit refuses edits to every section it reads."""

from __future__ import annotations

import copy

import pytest
from operator_kinds import EXAMPLES, MINIMAL_SPEC, SETTINGS, example_run, make_run
from operator_sim import Sim

from dart.config.load import parse_dartrun
from dart.plan import plan
from dart_operator import jobs
from dart_operator.assess import parse_context

EVERYTHING = {**copy.deepcopy(MINIMAL_SPEC),
              "compare": {"arms": ["sft-original", "sft-oracle", "direct-rl"],
                          "ablations": ["no-rl", "grape", "no-penalties"]},
              "evaluate": {"seeds": 2}}
EVERY_UNIT = [
    "learn", "synthesize", "synth-no-rl", "synth-grape", "learn-no-penalties",
    "synth-no-penalties", "direct-rl",
    *(f"sft-{arm}-{seed}" for arm in ("dart", "original", "oracle", "no-rl", "grape",
                                      "no-penalties") for seed in (0, 1)),
    "evaluate", "report",
]


def local_units(spec_dict: dict) -> list[str]:
    """What `dart run` derives (dart.local.pipeline runs dart.plan.plan)."""
    document = {"apiVersion": "dart.ai/v1alpha1", "kind": "DartRun",
                "metadata": {"name": "demo"}, "spec": spec_dict}
    return [u.name for u in plan(parse_dartrun(document, source="test").spec)]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_both_runners_derive_the_same_units_for_every_example(path):
    run = example_run(path)
    operator_units = [u.name for u in jobs.units(parse_context(run, SETTINGS).spec)]
    assert operator_units == local_units(run["spec"])


def test_a_spec_with_every_arm_and_ablation_plans_every_unit():
    assert local_units(EVERYTHING) == EVERY_UNIT
    ctx = parse_context(make_run(EVERYTHING), SETTINGS)
    assert [u.name for u in jobs.units(ctx.spec)] == EVERY_UNIT


def walk(sim: Sim) -> list[str]:
    """Play the controllers: servers become available, every Job finishes, in the order the
    operator creates them. Returns the Jobs in creation order."""
    created: list[str] = []
    for _ in range(200):
        status = sim.step()
        if status["phase"] in ("Succeeded", "Failed"):
            break
        for obj in sim.last_plan.create + sim.last_plan.update:
            if obj["kind"] == "Deployment":
                obj = sim.children["Deployment"][obj["metadata"]["name"]]
                obj["status"] = {"observedGeneration": 1, "availableReplicas": 1}
        for name, job in sim.children.get("Job", {}).items():
            if name not in created:
                created.append(name)
            if not job.get("status"):
                sim.job_done(name.removeprefix("demo-"))
    return created


def test_every_arm_and_ablation_walks_to_succeeded_with_exactly_the_plans_jobs():
    sim = Sim(make_run(EVERYTHING), SETTINGS)
    created = walk(sim)
    assert sim.run["status"]["phase"] == "Succeeded"
    assert sorted(created) == sorted(f"demo-{name}" for name in EVERY_UNIT)
    assert [c["status"] for c in sim.run["status"]["conditions"]
            if c["type"] in ("Learned", "Synthesized", "FineTuned", "Evaluated")] == ["True"] * 4


def walk_until_sft_starts() -> Sim:
    """A run with every arm and ablation, its servers ready and every served unit finished,
    stepped until the first SFT Job exists."""
    sim = Sim(make_run(EVERYTHING), SETTINGS)
    for _ in range(100):
        sim.step()
        if any(name.startswith("demo-sft-") for name in sim.names("Job")):
            break
        for obj in sim.children.get("Deployment", {}).values():
            obj["status"] = {"observedGeneration": 1, "availableReplicas": 1}
        for name, job in sim.children.get("Job", {}).items():
            if not job.get("status"):
                sim.job_done(name.removeprefix("demo-"))
    return sim


def test_sft_arms_and_seeds_run_side_by_side_once_the_servers_are_done():
    sim = walk_until_sft_starts()
    sft = {n for n in sim.names("Job") if n.startswith("demo-sft-")}
    assert len(sft) == 12  # 6 arms x 2 seeds at once
    assert sim.names("Deployment") == set()


def test_each_served_unit_gets_a_generator_of_its_own():
    sim = Sim(make_run(EVERYTHING), SETTINGS)
    seen = []
    for _ in range(200):
        if sim.step()["phase"] == "Succeeded":
            break
        generator = sim.get("Deployment", "generator")
        if generator:
            serves = generator["spec"]["template"]["metadata"]["annotations"]["dart.ai/serves"]
            if not seen or seen[-1] != serves:
                seen.append(serves)
            generator["status"] = {"observedGeneration": 1, "availableReplicas": 1}
            sim.get("Deployment", "scorer")["status"] = generator["status"]
        for name, job in sim.children.get("Job", {}).items():
            if not job.get("status"):
                sim.job_done(name.removeprefix("demo-"))
    assert seen == ["mapper/dart", "untrained/no-rl", "untrained/grape", "mapper/no-penalties",
                    "target/direct-rl"]


@pytest.mark.parametrize("edit", [
    {"compare": {"arms": ["sft-original", "sft-oracle"]}},
    {"evaluate": {"curvePoints": 7}},
    {"sft": {"epochs": 3}},
])
def test_edits_to_any_section_a_started_sft_unit_reads_are_refused(edit):
    """The sft unit keeps evaluate.curvePoints models and trains the arms compare names:
    a later edit of either must not silently mix specs in one run's results."""
    before = parse_context(make_run(EVERYTHING), SETTINGS).spec
    after = parse_context(make_run({**EVERYTHING, **edit}), SETTINGS).spec
    unit = next(u for u in jobs.units(before) if u.name == "sft-dart-0")
    assert jobs.inputs_hash(before, unit) != jobs.inputs_hash(after, unit)
    learn = next(u for u in jobs.units(before) if u.name == "learn")
    assert jobs.inputs_hash(before, learn) == jobs.inputs_hash(after, learn)


@pytest.mark.parametrize("edit", [
    {"arms": ["sft-original", "direct-rl"]},                  # compare: drop the oracle arm
    {"ablations": ["no-rl", "grape"]},
])
def test_a_compare_edit_after_sft_started_is_refused_and_starts_nothing(edit):
    """Before the plan, the sft Job's fingerprint left compare out: such an edit went
    through and a run's results silently mixed two specs."""
    sim = walk_until_sft_starts()
    jobs_before = sim.names("Job")
    sim.run["spec"]["compare"] = {**sim.run["spec"]["compare"], **edit}
    sim.step()
    refused = sim.condition("SpecRefused")
    assert refused["status"] == "True" and "sft-dart-0" in refused["message"]
    assert "learn," not in refused["message"]  # learn does not read compare
    sim.job_done("sft-dart-0")
    sim.step()
    assert sim.names("Job") == jobs_before and not sim.last_plan.create
