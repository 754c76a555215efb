"""GRPO, the algorithm, in three functions: advantages, token log-probs, the clipped loss.

Group Relative Policy Optimization (Shao et al. 2024, arXiv 2402.03300): sample G rewrites per
demonstration, normalise each reward by its group's mean and std (no value network), and
maximise the PPO clipped surrogate over the rewrite's tokens, with an optional KL penalty to
the initial policy. The KL uses the "k3" estimator, unbiased and always >= 0
(http://joschu.net/blog/kl-approx.html).

Off-policy rollouts (learn.maxStaleness >= 1: sampled by weights some versions older than the
learner's) are corrected as in decoupled PPO (Hilton et al. 2021, arXiv 2110.00641; AReaL,
arXiv 2505.24298): the clip stays around the learner's own weights before the update, and each
token's term is weighted by the truncated importance ratio learner / generator (capped at
IMPORTANCE_CAP, as truncated importance sampling does, arXiv 2506.xxxx "TIS" in verl).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

IMPORTANCE_CAP = 2.0
"""Largest weight one token of a stale rollout gets: bounds the variance a rollout the
learner now finds far likelier than the generator did could add."""


def group_advantages(rewards: torch.Tensor, group_size: int, eps: float = 1e-4) -> torch.Tensor:
    """(r - mean(group)) / (std(group) + eps), for rewards laid out group after group.

    A group whose rewrites all score the same gets zero advantage: it teaches nothing, which
    is why the mapper must keep sampling diversity.
    """
    groups = rewards.view(-1, group_size)
    mean = groups.mean(dim=1, keepdim=True)
    std = groups.std(dim=1, keepdim=True, unbiased=False)
    return ((groups - mean) / (std + eps)).view(-1)


def token_logprobs(
    model: torch.nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor
) -> torch.Tensor:
    """log p(token_t | tokens_<t) for t >= 1, shape [batch, seq - 1].

    Computed on the exact token ids that were sampled: no re-tokenisation of the text, so the
    learner's policy and the generator's samples agree token for token.
    """
    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, :-1]
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    return logprobs.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)


def importance_weights(learner_logprobs: torch.Tensor, behaviour_logprobs: torch.Tensor,
                       cap: float = IMPORTANCE_CAP) -> torch.Tensor:
    """min(pi_learner / pi_generator, cap) per token, no gradient: how much likelier the
    learner's weights before the update find a sampled token than the weights that sampled it."""
    return torch.exp(learner_logprobs - behaviour_logprobs).clamp(max=cap).detach()


@dataclass
class LossParts:
    """The loss and its diagnostics (cleanrl-style), all scalars."""

    loss: torch.Tensor
    policy_loss: float
    kl: float
    clip_fraction: float
    approx_kl_old: float


def grpo_loss(
    new_logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    clip_ratio: float,
    kl_coef: float = 0.0,
    ref_logprobs: torch.Tensor | None = None,
    token_weights: torch.Tensor | None = None,
) -> LossParts:
    """Clipped surrogate per token, averaged per sequence then over the batch (GRPO's 1/|o|).

    `old_logprobs` are the learner's before this batch's first update; `advantages` has one
    value per sequence; `mask` marks the rewrite's tokens; `token_weights` (None: all 1) are
    the importance weights of off-policy rollouts (`importance_weights`).
    """
    ratio = torch.exp(new_logprobs - old_logprobs)
    adv = advantages.unsqueeze(-1)
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1.0 - clip_ratio, 1.0 + clip_ratio) * adv
    per_token = -torch.minimum(unclipped, clipped)
    if token_weights is not None:
        per_token = per_token * token_weights
    policy_term = per_token
    kl = torch.zeros_like(per_token)
    if ref_logprobs is not None and kl_coef > 0:
        log_ratio_ref = ref_logprobs - new_logprobs
        kl = torch.exp(log_ratio_ref) - log_ratio_ref - 1.0  # k3 estimator of KL(new || ref)
        per_token = per_token + kl_coef * kl
    loss = _sequence_mean(per_token, mask).mean()
    with torch.no_grad():
        clip_fraction = _masked_mean(((ratio - 1.0).abs() > clip_ratio).float(), mask)
        approx_kl_old = _masked_mean((ratio - 1.0) - torch.log(ratio), mask)
        policy_loss = _sequence_mean(policy_term, mask).mean()
    return LossParts(
        loss=loss,
        policy_loss=float(policy_loss),
        kl=float(_masked_mean(kl, mask)),
        clip_fraction=float(clip_fraction),
        approx_kl_old=float(approx_kl_old),
    )


def _sequence_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (values * mask).sum(dim=-1) / mask.sum(dim=-1).clamp(min=1)


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (values * mask).sum() / mask.sum().clamp(min=1)
