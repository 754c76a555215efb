"""Which arms a spec trains, in which order, and the spec each ablation runs with."""

from pathlib import Path

from dart.arms import ablation_spec, evaluated_arms, sft_arms
from dart.config.load import load_dartrun
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
        "sft-original-1", "sft-oracle-0", "sft-oracle-1", "evaluate", "report"]


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
