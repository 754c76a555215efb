"""GRPO's pieces on hand-made tensors: advantages, the clipped loss, KL, and its gradient."""

import pytest
import torch

from dart.learn.grpo import group_advantages, grpo_loss, token_logprobs


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
