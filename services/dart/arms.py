"""The arms of a run: what each trains, from which data, and where its artifacts live.

`dart` (the adapted data) always runs. `compare.arms` adds `sft-original` (the data as given),
`sft-oracle` (the same problems in the target's native style) and `direct-rl` (GRPO on the
target itself). Each of `compare.ablations` is one more SFT arm on data from a variant of the
DART pipeline: `no-rl` (untrained mapper), `grape` (likelihood selection of untrained
rewrites) and `no-penalties` (a mapper learnt without anti-cheating penalties). Pure
functions of the spec, no I/O.
"""

from __future__ import annotations

from dart.artifacts.layout import DART, DIRECT_RL
from dart.config.spec import DartRunSpec

__all__ = ["ADAPTED_ARMS", "DART", "DIRECT_RL", "ablation_spec", "evaluated_arms", "sft_arms"]
ADAPTED_ARMS = (DART, "no-rl", "grape", "no-penalties")  # SFT on a synthesize output


def sft_arms(spec: DartRunSpec) -> list[str]:
    """Arms fine-tuned with the run's SFT settings, once per evaluation seed."""
    compared = [arm for arm in spec.compare.arms if arm != DIRECT_RL]
    return [DART, *compared, *spec.compare.ablations]


def evaluated_arms(spec: DartRunSpec) -> list[str]:
    """Every arm with a trained model: the SFT arms, then direct-rl when asked for."""
    return sft_arms(spec) + ([DIRECT_RL] if DIRECT_RL in spec.compare.arms else [])


PENALTY_FREE = ("no-penalties", "grape")


def ablation_spec(spec: DartRunSpec, arm: str) -> DartRunSpec:
    """The spec an ablation's stages run with. `no-penalties` learns with every penalty off;
    `grape` ranks by the target's likelihood alone (its one check is the answer), so its
    rewards too are computed without penalties, which leaves the alignment term ungated."""
    if arm not in PENALTY_FREE:
        return spec
    reward = spec.learn.reward
    penalties = reward.penalties.model_copy(update={"enabled": False})
    learn = spec.learn.model_copy(update={"reward": reward.model_copy(
        update={"penalties": penalties})})
    return spec.model_copy(update={"learn": learn})
