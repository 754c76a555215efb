"""Which arms a spec trains, in which order, and the spec each ablation runs with."""

from pathlib import Path

import pytest
import yaml

from dart.arms import ablation_spec, evaluated_arms, is_adapted, sft_arms, untrained_rule
from dart.config.limits import MAX_SAMPLES_PER_PROMPT
from dart.config.load import SpecError, load_dartrun, parse_dartrun
from dart.config.spec import MAX_RUN_NAME
from dart.plan import plan

QUICKSTART = Path(__file__).resolve().parents[1] / "examples/01-quickstart.yaml"


def spec_with(**compare):
    spec = load_dartrun(QUICKSTART).spec
    return spec.model_copy(update={"compare": spec.compare.model_copy(update=compare)})


def test_the_quickstart_compares_dart_with_plain_sft_and_the_oracle():
    spec = load_dartrun(QUICKSTART).spec
    assert sft_arms(spec) == ["dart", "sft-original", "sft-oracle"]
    assert evaluated_arms(spec) == ["dart", "sft-original", "sft-oracle"]
    assert [unit.name for unit in plan(spec)] == [
        "learn", "synthesize", "sft-dart-0", "sft-dart-1", "sft-original-0",
        "sft-original-1", "sft-oracle-0", "sft-oracle-1",
        "evaluate", "report"]


def test_direct_rl_is_a_unit_after_the_mappers_data():
    spec = spec_with(arms=["sft-original", "direct-rl", "sft-oracle"])
    assert evaluated_arms(spec) == ["dart", "sft-original", "sft-oracle", "direct-rl"]
    assert [unit.name for unit in plan(spec)][:3] == ["learn", "synthesize", "direct-rl"]


def test_ablations_are_sft_arms_with_units_of_their_own():
    spec = spec_with(arms=[], ablations=["no-rl", "grape", "no-penalties"])
    assert evaluated_arms(spec) == ["dart", "no-rl", "grape", "no-penalties"]
    assert [unit.name for unit in plan(spec)][2:6] == [
        "synth-no-rl", "synth-grape", "learn-no-penalties", "synth-no-penalties"]


def test_no_penalties_and_grape_reward_without_penalties_no_rl_as_dart():
    spec = load_dartrun(QUICKSTART).spec
    for arm in ("no-penalties", "grape"):
        assert not ablation_spec(spec, arm).learn.reward.penalties.enabled
        assert ablation_spec(spec, arm).learn.reward.clip == spec.learn.reward.clip
    assert ablation_spec(spec, "no-rl") is spec


def test_grape_at_k_samples_k_untrained_candidates_per_demonstration():
    spec = spec_with(arms=[], ablations=["grape-k2", "grape-k16"])
    units = {unit.name: unit for unit in plan(spec)}
    assert units["synth-grape-k2"].untrained and units["synth-grape-k2"].rule == "grape"
    assert units["sft-grape-k16-0"].needs == ("synth-grape-k16",)
    assert ablation_spec(spec, "grape-k2").synthesize.samples_per_item == 2
    assert ablation_spec(spec, "grape-k16").synthesize.samples_per_item == 16
    assert not ablation_spec(spec, "grape-k16").learn.reward.penalties.enabled
    # plain grape keeps the run's own samplesPerItem
    assert (ablation_spec(spec, "grape").synthesize.samples_per_item
            == spec.synthesize.samples_per_item)


def parsed(*ablations):
    """The quickstart with these ablations, through the loader that validates a user's file."""
    doc = yaml.safe_load(QUICKSTART.read_text())
    doc["spec"]["compare"]["ablations"] = list(ablations)
    return parse_dartrun(doc)


def test_grape_k_is_bounded_by_what_one_generator_request_may_ask():
    assert parsed(f"grape-k{MAX_SAMPLES_PER_PROMPT}").spec.compare.ablations
    for bad in (f"grape-k{MAX_SAMPLES_PER_PROMPT + 1}", "grape-k0", "grape-8"):
        with pytest.raises(SpecError, match=f"grape-kN with N from 1 to {MAX_SAMPLES_PER_PROMPT}"):
            parsed(bad)


def test_every_ablation_the_schema_accepts_is_an_adapted_arm_the_pipeline_can_build():
    accepted = ["no-rl", "no-penalties", "grape",
                *(f"grape-k{k}" for k in range(1, MAX_SAMPLES_PER_PROMPT + 1))]
    for arm in accepted:
        assert parsed(arm).spec.compare.ablations == [arm]  # the schema accepts it
        assert is_adapted(arm), arm
    # no-penalties learns its own mapper; the others rewrite with the untrained one
    assert untrained_rule("no-penalties") is None
    assert untrained_rule("no-rl") == "gated"
    assert {untrained_rule(arm) for arm in accepted if arm.startswith("grape")} == {"grape"}


def test_every_child_name_of_the_longest_plan_fits_a_dns_label():
    spec = spec_with(arms=["sft-original", "direct-rl", "sft-oracle"],
                     ablations=["no-penalties", "no-rl", "grape", "grape-k16"])
    spec = spec.model_copy(update={"evaluate": spec.evaluate.model_copy(update={"seeds": 8})})
    assert max(MAX_RUN_NAME + 1 + len(unit.name) for unit in plan(spec)) <= 63
