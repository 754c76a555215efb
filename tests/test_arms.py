"""Which arms a spec trains, in which order, and the spec each ablation runs with."""

from pathlib import Path

from dart.arms import ablation_spec, evaluated_arms, sft_arms
from dart.config.load import load_dartrun
from dart.local.pipeline import stage_plan

QUICKSTART = Path(__file__).resolve().parents[1] / "examples/01-quickstart.yaml"


def spec_with(**compare):
    spec = load_dartrun(QUICKSTART).spec
    return spec.model_copy(update={"compare": spec.compare.model_copy(update=compare)})


def test_the_quickstart_compares_dart_with_plain_sft_the_oracle_and_direct_rl():
    spec = load_dartrun(QUICKSTART).spec
    assert sft_arms(spec) == ["dart", "sft-original", "sft-oracle"]
    assert evaluated_arms(spec) == ["dart", "sft-original", "sft-oracle", "direct-rl"]
    assert [name for name, _ in stage_plan(spec)] == [
        "learn + synthesize", "direct-rl", "sft", "evaluate"]


def test_ablations_are_sft_arms_with_a_stage_each():
    spec = spec_with(arms=[], ablations=["no-rl", "grape", "no-penalties"])
    assert evaluated_arms(spec) == ["dart", "no-rl", "grape", "no-penalties"]
    assert [name for name, _ in stage_plan(spec)][1:4] == [
        "ablation no-rl", "ablation grape", "ablation no-penalties"]


def test_no_penalties_and_grape_reward_without_penalties_no_rl_as_dart():
    spec = load_dartrun(QUICKSTART).spec
    for arm in ("no-penalties", "grape"):
        assert not ablation_spec(spec, arm).learn.reward.penalties.enabled
        assert ablation_spec(spec, arm).learn.reward.clip == spec.learn.reward.clip
    assert ablation_spec(spec, "no-rl") is spec
