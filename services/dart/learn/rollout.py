"""Rollouts: sample G completions per item and reward them (a `RolloutTask` says how).

One typed batch (`RolloutBatch`) carries everything from generation to the update, verl-style:
the exact token ids the generator sampled (never re-tokenised), the reward breakdowns, and the
weights version that produced each sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import torch

from dart.config.spec import Learn
from dart.learn.tasks import RolloutTask
from dart.rewards import RewardBreakdown


class Generator(Protocol):
    def generate(self, prompts: Sequence[str], **kwargs) -> list[list]: ...


@dataclass(frozen=True)
class Rollout:
    """One sampled rewrite of one demonstration."""

    item_id: str
    prompt_ids: list[int]
    completion_ids: list[int]
    text: str
    reward: RewardBreakdown
    weights_version: str
    generator_logprobs: list[float]


@dataclass
class RolloutBatch:
    """G consecutive rollouts per demonstration."""

    rollouts: list[Rollout]
    group_size: int
    stats: dict[str, float] = field(default_factory=dict)

    def rewards(self) -> torch.Tensor:
        return torch.tensor([r.reward.total for r in self.rollouts], dtype=torch.float32)

    def completion_tokens(self) -> int:
        return sum(len(r.completion_ids) for r in self.rollouts)

    def model_inputs(self, pad_id: int) -> dict[str, torch.Tensor]:
        """Right-padded prompt+completion ids, and a mask over the completion's predictions.

        `completion_mask[b, t]` marks position t of `token_logprobs` (which predicts token t+1)
        when token t+1 belongs to the rewrite.
        """
        sequences = [r.prompt_ids + r.completion_ids for r in self.rollouts]
        width = max(len(s) for s in sequences)
        input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
        attention = torch.zeros((len(sequences), width), dtype=torch.long)
        completion = torch.zeros((len(sequences), width - 1), dtype=torch.float32)
        for row, (rollout, sequence) in enumerate(zip(self.rollouts, sequences, strict=True)):
            input_ids[row, : len(sequence)] = torch.tensor(sequence)
            attention[row, : len(sequence)] = 1
            start = len(rollout.prompt_ids) - 1
            completion[row, start : start + len(rollout.completion_ids)] = 1.0
        return {"input_ids": input_ids, "attention_mask": attention, "completion_mask": completion}


def collect_rollouts(
    items: Sequence[dict], *, tokenizer, generator: Generator, task: RolloutTask, config: Learn,
    seed: int, first_index: int = 0,
) -> RolloutBatch:
    """Sample and reward `group_size` completions for every item: rewrites of the
    demonstration (the mapper) or answers to the question (direct-rl), as `task` says.

    Prompt and completion ids are the generator's own, so the learner's log-probs are
    computed on exactly the sampled tokens. `items` may be one rank's share of the step's
    batch, starting at `first_index` in it: each item's group is drawn with a seed of its own
    (`item_seed`), so its samples do not depend on how the batch was split across ranks.
    Every group is sampled before any is rewarded (the synchronous loop, learn.maxStaleness 0);
    `stream_rollouts` rewards each group as it finishes."""
    prompts = task.prompts(tokenizer, items)
    groups = _in_parallel(lambda i: _sample_group(prompts[i], generator, config,
                                                  item_seed(seed, first_index + i)),
                          len(items))
    samples = [(index, c) for index, group in enumerate(groups) for c in group]
    rewards = task.rewards([items[i] for i, _ in samples], [c.text for _, c in samples])
    rollouts = [_rollout(items[i], c, reward, tokenizer)
                for (i, c), reward in zip(samples, rewards, strict=True)]
    return RolloutBatch(rollouts, config.group_size)


def stream_rollouts(
    items: Sequence[dict], *, tokenizer, generator: Generator, task: RolloutTask, config: Learn,
    seed: int, first_index: int = 0,
) -> RolloutBatch:
    """collect_rollouts with scoring streamed: each group is rewarded as soon as it is
    sampled, so the scorer works while the generator still samples the other groups. The
    same samples (same seeds); rewards equal up to the scorer's batching (float rounding)."""
    prompts = task.prompts(tokenizer, items)

    def one(i: int) -> list[Rollout]:
        group = _sample_group(prompts[i], generator, config, item_seed(seed, first_index + i))
        rewards = task.rewards([items[i]] * len(group), [c.text for c in group])
        return [_rollout(items[i], c, r, tokenizer) for c, r in zip(group, rewards, strict=True)]

    groups = _in_parallel(one, len(items))
    return RolloutBatch([r for group in groups for r in group], config.group_size)


def item_seed(step_seed: int, index_in_batch: int) -> int:
    """The generator seed of one item's group (the batch holds at most 4096 items)."""
    return (step_seed * 4096 + index_in_batch) % 2**64


def _sample_group(prompt: str, generator: Generator, config: Learn, seed: int) -> list:
    return generator.generate([prompt], n=config.group_size, temperature=config.temperature,
                              top_p=config.top_p, max_tokens=config.max_new_tokens,
                              seed=seed)[0]


def _in_parallel(job, count: int) -> list:
    """job(i) for every item, all in flight together: the servers batch concurrent
    requests, and a request's seed fixes its samples whatever else is in the batch."""
    with ThreadPoolExecutor(max_workers=max(min(count, 16), 1)) as pool:
        return list(pool.map(job, range(count)))


def _rollout(item: dict, completion, reward: RewardBreakdown, tokenizer) -> Rollout:
    return Rollout(item_id=item["id"], prompt_ids=[int(x) for x in completion.prompt_token_ids],
                   completion_ids=_with_eos(completion, tokenizer.eos_token_id),
                   text=completion.text, reward=reward, weights_version=completion.weights_version,
                   generator_logprobs=[float(x) for x in completion.logprobs])


def _with_eos(completion, eos_id: int) -> list[int]:
    """The generator omits the end-of-sequence token; the policy must learn to emit it."""
    ids = [int(x) for x in completion.token_ids]
    return ids + [eos_id] if completion.finish_reason == "stop" else ids
