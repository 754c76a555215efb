"""The arms of a run: what each trains, from which data, and where its artifacts live.

`dart` (the adapted data) always runs. `compare.arms` adds `sft-original` (the data as given),
`sft-oracle` (the same problems in the target's native style) and `direct-rl` (GRPO on the
target itself). Each of `compare.ablations` is one more SFT arm on data from a variant of the
DART pipeline: `no-rl` (untrained mapper), `grape` and `grape-kN` (likelihood selection of
k untrained rewrites) and `no-penalties` (a mapper learnt without anti-cheating penalties).
Pure functions of the spec, no I/O.
"""

from __future__ import annotations

from dart.artifacts.layout import DART, DIRECT_RL
from dart.config.spec import GRAPE, NO_PENALTIES, NO_RL, DartRunSpec

__all__ = ["DART", "DIRECT_RL", "GRAPE", "NO_PENALTIES", "NO_RL", "ablation_spec",
           "evaluated_arms", "grape_candidates", "is_adapted", "sft_arms", "untrained_rule"]
_GRAPE_K = "grape-k"  # grape-k8: GRAPE with 8 candidates (spec.ABLATION_PATTERN)


def grape_candidates(arm: str) -> int | None:
    """k of a `grape-kN` arm; None for every other arm (plain `grape` samples
    synthesize.samplesPerItem)."""
    return int(arm.removeprefix(_GRAPE_K)) if arm.startswith(_GRAPE_K) else None


def _is_grape(arm: str) -> bool:
    return arm == GRAPE or arm.startswith(_GRAPE_K)


def untrained_rule(arm: str) -> str | None:
    """How an ablation that rewrites with the untrained mapper picks a rewrite (a
    dart.synthesize.select.SELECTION_RULES key); None for an arm that learns its mapper."""
    if arm == NO_RL:
        return "gated"
    return "grape" if _is_grape(arm) else None


def is_adapted(arm: str) -> bool:
    """Does the arm fine-tune on a synthesize output (dart and every ablation)?"""
    return arm in (DART, NO_RL, NO_PENALTIES) or _is_grape(arm)


def sft_arms(spec: DartRunSpec) -> list[str]:
    """Arms fine-tuned with the run's SFT settings, once per evaluation seed."""
    compared = [arm for arm in spec.compare.arms if arm != DIRECT_RL]
    return [DART, *compared, *spec.compare.ablations]


def evaluated_arms(spec: DartRunSpec) -> list[str]:
    """Every arm with a trained model: the SFT arms, then direct-rl when asked for."""
    return sft_arms(spec) + ([DIRECT_RL] if DIRECT_RL in spec.compare.arms else [])


def ablation_spec(spec: DartRunSpec, arm: str) -> DartRunSpec:
    """The spec an ablation's stages run with. `no-penalties` learns with every penalty off;
    `grape` ranks by the target's likelihood alone (its one check is the answer), so its
    rewards too are computed without penalties, which leaves the alignment term ungated;
    `grape-kN` also samples N candidates per demonstration."""
    if arm != NO_PENALTIES and not _is_grape(arm):
        return spec
    reward = spec.learn.reward
    penalties = reward.penalties.model_copy(update={"enabled": False})
    learn = spec.learn.model_copy(update={"reward": reward.model_copy(
        update={"penalties": penalties})})
    update = {"learn": learn}
    if (k := grape_candidates(arm)) is not None:
        update["synthesize"] = spec.synthesize.model_copy(update={"samples_per_item": k})
    return spec.model_copy(update=update)
