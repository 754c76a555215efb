"""GRPO's pieces on hand-made tensors: advantages, the clipped loss, KL, and its gradient."""

import math
from types import SimpleNamespace

import pytest
import torch

from dart.config.spec import DartRunSpec
from dart.learn.grpo import (
    IMPORTANCE_CAP,
    group_advantages,
    grpo_loss,
    importance_weights,
    token_logprobs,
)
from dart.learn.loop import served_logprobs, update_policy
from dart.learn.policy import Policy
from dart.learn.rollout import Rollout, RolloutBatch
from dart.rewards import RewardBreakdown


def test_advantages_are_normalised_within_each_group():
    rewards = torch.tensor([1.0, 2.0, 3.0, 10.0, 10.0, 10.0])
    adv = group_advantages(rewards, group_size=3)
    assert adv[:3].tolist() == pytest.approx([-1.2247, 0.0, 1.2247], abs=1e-3)
    assert adv[3:].tolist() == [0.0, 0.0, 0.0]  # identical rewrites teach nothing


def test_loss_at_ratio_one_is_minus_mean_advantage():
    lp = torch.log(torch.tensor([[0.5, 0.5], [0.5, 0.5]]))
    mask = torch.ones(2, 2)
    parts = grpo_loss(lp, lp, torch.tensor([1.0, -3.0]), mask, clip_ratio=0.2)
    assert parts.loss.item() == pytest.approx(1.0)
    assert parts.clip_fraction == 0.0 and parts.kl == 0.0


def test_padding_tokens_do_not_count():
    lp = torch.zeros(1, 3)
    parts = grpo_loss(lp, lp, torch.tensor([2.0]), torch.tensor([[1.0, 0.0, 0.0]]),
                      clip_ratio=0.2)
    assert parts.loss.item() == pytest.approx(-2.0)


def test_clipping_stops_the_gradient_past_the_trust_region():
    old = torch.zeros(1, 1)
    new = torch.tensor([[0.5]], requires_grad=True)  # ratio e^0.5 = 1.65 > 1.2
    grpo_loss(new, old, torch.tensor([1.0]), torch.ones(1, 1), clip_ratio=0.2).loss.backward()
    assert new.grad.item() == 0.0
    inside = torch.tensor([[0.1]], requires_grad=True)
    grpo_loss(inside, old, torch.tensor([1.0]), torch.ones(1, 1), clip_ratio=0.2).loss.backward()
    assert inside.grad.item() < 0  # descending the loss raises the likelihood


def test_kl_is_zero_at_the_reference_and_positive_away_from_it():
    lp = torch.tensor([[-1.0, -2.0]])
    mask = torch.ones(1, 2)
    same = grpo_loss(lp, lp, torch.zeros(1), mask, clip_ratio=0.2, kl_coef=0.1, ref_logprobs=lp)
    assert same.kl == pytest.approx(0.0)
    moved = grpo_loss(lp, lp, torch.zeros(1), mask, clip_ratio=0.2, kl_coef=0.1,
                      ref_logprobs=lp - 0.5)
    assert moved.kl > 0 and moved.loss.item() > 0


class Bigram(torch.nn.Module):
    """A model whose next-token distribution depends on the current token only."""

    def __init__(self, vocab=5):
        super().__init__()
        self.table = torch.nn.Parameter(torch.zeros(vocab, vocab))

    def forward(self, input_ids, attention_mask):
        return type("Out", (), {"logits": self.table[input_ids]})()


def test_a_step_makes_the_better_rewrite_more_likely():
    model = Bigram()
    good, bad = torch.tensor([[0, 1, 2]]), torch.tensor([[0, 3, 4]])
    ids = torch.cat([good, bad])
    attention, mask = torch.ones_like(ids), torch.ones(2, 2)
    before = token_logprobs(model, ids, attention).sum(-1).detach()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    old = token_logprobs(model, ids, attention).detach()
    loss = grpo_loss(token_logprobs(model, ids, attention), old,
                     group_advantages(torch.tensor([1.0, 0.0]), 2), mask, clip_ratio=0.2).loss
    loss.backward()
    optimizer.step()
    after = token_logprobs(model, ids, attention).sum(-1).detach()
    assert after[0] > before[0] and after[1] < before[1]



class Engine:
    """DeepSpeed's engine interface (call, backward, step, module) over a plain optimizer."""

    def __init__(self, module):
        self.module, self.optimizer = module, torch.optim.SGD(module.parameters(), lr=0.5)
        self.steps = 0

    def __call__(self, **inputs):
        return self.module(**inputs)

    def backward(self, loss):
        loss.backward()

    def step(self):
        self.optimizer.step()
        self.optimizer.zero_grad()
        self.steps += 1


def rewarded(completion: list[int], total: float, served: list[float] = ()) -> Rollout:
    reward = RewardBreakdown(total=total, alignment=total, min_token=0, answer_changed=0,
                             missing_answer=0, numbers_changed=0, length=0, repetition=0, copy=0,
                             answer_preserved=True, length_ratio=1.0, repeated_fraction=0.0,
                             numbers_kept=1.0, operations_kept=1.0, operations_changed=0)
    return Rollout("a", [0], completion, "", reward, "base", list(served))


def update_bigram(updates: int, served=((), ()), off_policy=False) -> tuple[int, dict, Policy]:
    spec = DartRunSpec.model_validate({
        "models": {"target": {"uri": "hf://org/model@main"}}, "dataset": {"synthetic": {}},
        "learn": {"updatesPerBatch": updates, "clipRatio": 0.2}})
    policy = Policy(engine=Engine(Bigram()), tokenizer=SimpleNamespace(pad_token_id=0),
                    lora=False, reference=None)
    batch = RolloutBatch([rewarded([1, 2], 1.0, served[0]), rewarded([3, 4], 0.0, served[1])],
                         group_size=2)
    stats = update_policy(policy, batch, spec, off_policy=off_policy)
    return policy.engine.steps, stats, policy


def test_updates_per_batch_steps_again_on_the_same_rollouts():
    """mu updates on one batch: each is an optimizer step, and the later ones see a policy
    that has moved from the one that sampled (ratio != 1), which the clip then bounds."""
    steps, stats, _ = update_bigram(3)
    assert steps == 3 and stats["approx_kl_old"] > 0
    steps, stats, _ = update_bigram(1)
    assert steps == 1 and stats["approx_kl_old"] == 0


def test_stale_tokens_weigh_by_the_importance_ratio_capped():
    learner = torch.log(torch.tensor([[0.5, 0.2, 0.9]]))
    generator = torch.log(torch.tensor([[0.25, 0.4, 0.1]]))  # ratios 2, 0.5, 9
    weights = importance_weights(learner, generator)
    assert weights[0].tolist() == pytest.approx([2.0, 0.5, IMPORTANCE_CAP])
    new = learner.clone().requires_grad_(True)
    grpo_loss(new, learner, torch.tensor([1.0]), torch.ones(1, 3), clip_ratio=0.2,
              token_weights=weights).loss.backward()
    # At ratio 1 the surrogate's gradient per token is -advantage / |o|, times its weight.
    assert new.grad[0].tolist() == pytest.approx((-weights[0] / 3).tolist())


def test_off_policy_updates_use_the_generators_log_probs_where_it_gave_them():
    # The untrained bigram gives every token log 0.2.
    served = ([math.log(0.1), math.log(0.4)], [math.log(0.2)])  # second: EOS not reported
    _, stats, on_policy = update_bigram(1, served)
    _, stats_off, off_policy = update_bigram(1, served, off_policy=True)
    # weights 2 and 0.5 on the first rewrite; 1 where the generator agrees or gave nothing
    assert stats_off["importance_weight_mean"] == pytest.approx((2 + 0.5 + 1 + 1) / 4)
    assert "importance_weight_mean" not in stats
    assert not torch.equal(on_policy.module.table, off_policy.module.table)
    assert stats["sampler_mismatch"] == stats_off["sampler_mismatch"] > 0


def test_served_log_probs_fill_the_learners_where_the_generator_gave_none():
    batch = RolloutBatch([rewarded([1, 2, 9], 0.0, [-1.0, -2.0])], group_size=1)
    mask = batch.model_inputs(pad_id=0)["completion_mask"]
    learner = torch.full((1, 3), -5.0)
    assert served_logprobs(batch, learner, mask).tolist() == [[-1.0, -2.0, -5.0]]
