"""The learner: GRPO on the mapper against a frozen target, read top to bottom.

    dart learn --config examples/01-quickstart.yaml --artifacts runs/quickstart \
        --generator 127.0.0.1:50051 --scorer 127.0.0.1:50052

Each step: take the step's demonstrations, sample G rewrites each from the generator server,
score them with the scorer server, turn scores into rewards and group advantages, and take
one DeepSpeed step on the clipped GRPO loss. Every `publishEvery` steps the new weights go to
the generator; every `checkpointEvery` steps a resumable checkpoint is written. The same loop
trains the direct-rl arm (the target answering questions, rewarded for correct answers): only
the `RolloutTask` differs (dart.learn.tasks).

With `learn.maxStaleness` N >= 1 (the default, 1) the generator samples the next N steps while
the learner updates (dart.learn.overlap), each group scored as it finishes; the loss corrects
for the lag with the generator's log-probs (importance weights, dart.learn.grpo). With 0 the
steps run one after the other, sample -> score -> update.

Under torchrun (`torchrun --nproc-per-node N -m dart learn ...`) each rank samples, scores
and differentiates its equal share of the step's demonstrations, DeepSpeed averages the
gradients, and rank 0 alone records progress and publishes: the result is the one-process
result on the same global batch (tests/learn/test_distributed_learner.py).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from dart.artifacts import Artifacts
from dart.config.spec import DartRunSpec
from dart.learn import checkpoint as ckpt
from dart.learn import ranks
from dart.learn.diagnostics import group_diversity, style_stats
from dart.learn.grpo import (
    group_advantages,
    grpo_loss,
    importance_weights,
    token_logprobs,
)
from dart.learn.overlap import PublishedVersions, RolloutPipeline, checkpoint_stretches
from dart.learn.policy import (
    Policy,
    gathered_weights,
    reference_context,
    reference_model,
    save_weights,
)
from dart.learn.progress import VERSION, Progress
from dart.learn.rollout import RolloutBatch, collect_rollouts, stream_rollouts
from dart.learn.tasks import RewriteTask, RolloutTask
from dart.rewards.reward import PENALTY_NAMES
from dart.verify import Verifier


@dataclass
class LearnerServices:
    """What the learner talks to: the generator and scorer clients, and the verifier."""

    generator: object
    scorer: object
    verifier: Verifier
    task: RolloutTask | None = None
    """What is sampled and rewarded; None: DART's rewrite task (scorer + verifier)."""


def batch_for_step(items: list[dict], step: int, batch_size: int, seed: int) -> list[dict]:
    """The demonstrations of a step: a fresh seeded permutation per epoch, so the data
    position of a resumed run is its step number alone."""
    per_epoch = max(len(items) // batch_size, 1)
    epoch, offset = divmod(step, per_epoch)
    order = list(range(len(items)))
    random.Random(f"{seed}:{epoch}").shuffle(order)
    return [items[i] for i in order[offset * batch_size : (offset + 1) * batch_size]]


def update_policy(policy: Policy, batch: RolloutBatch, spec: DartRunSpec, *,
                  off_policy: bool = False) -> dict[str, float]:
    """`updatesPerBatch` GRPO updates on one batch. Old log-probs are the learner's own,
    recomputed on the sampled ids before the first update; the statistics are the last's.
    `off_policy` (overlapped rollouts): each token also weighs by the importance ratio of
    the learner's old log-prob over the generator's."""
    learn = spec.learn
    inputs = batch.model_inputs(policy.tokenizer.pad_token_id)
    ids, attention, mask = inputs["input_ids"], inputs["attention_mask"], inputs["completion_mask"]
    advantages = group_advantages(batch.rewards(), batch.group_size)
    with torch.no_grad():
        old = token_logprobs(policy.module, ids, attention)
        ref = None
        if learn.kl_coef > 0:
            with reference_context(policy):
                ref = token_logprobs(reference_model(policy), ids, attention)
    weights = importance_weights(old, served_logprobs(batch, old, mask)) if off_policy else None
    for _ in range(learn.updates_per_batch):
        new = token_logprobs(policy.engine, ids, attention)
        parts = grpo_loss(new, old, advantages, mask, clip_ratio=learn.clip_ratio,
                          kl_coef=learn.kl_coef, ref_logprobs=ref, token_weights=weights)
        policy.engine.backward(parts.loss)
        policy.engine.step()
    stats = {"loss": float(parts.loss.detach()), "policy_loss": parts.policy_loss,
             "kl": parts.kl, "clip_fraction": parts.clip_fraction,
             "approx_kl_old": parts.approx_kl_old,
             "sampler_mismatch": _sampler_mismatch(batch, old, mask)}
    if weights is not None:
        stats["importance_weight_mean"] = float((weights * mask).sum() / mask.sum().clamp(min=1))
    return stats


def _served_positions(batch: RolloutBatch, mask: torch.Tensor):
    """(row, positions, generator log-probs) per rollout: the rewrite tokens the generator
    reported a log-prob for (all but the end-of-sequence token, which it does not return)."""
    for row, rollout in enumerate(batch.rollouts):
        positions = mask[row].nonzero().flatten()[: len(rollout.generator_logprobs)]
        yield row, positions, torch.tensor(rollout.generator_logprobs[: len(positions)])


def served_logprobs(batch: RolloutBatch, learner_lp: torch.Tensor, mask: torch.Tensor
                    ) -> torch.Tensor:
    """The generator's log-prob of every sampled token, laid out as `learner_lp`; where
    it reported none (EOS, padding) the learner's own, so that token's weight is 1."""
    served = learner_lp.clone()
    for row, positions, logprobs in _served_positions(batch, mask):
        served[row, positions] = logprobs
    return served


def _sampler_mismatch(batch: RolloutBatch, learner_lp: torch.Tensor, mask: torch.Tensor) -> float:
    """Mean |generator log-prob - learner log-prob| per rewrite token: staleness between
    publishes plus numeric differences between the serving engine and the learner."""
    gaps = [(learner_lp[row, positions] - served).abs().mean().item() if len(served) else 0
            for row, positions, served in _served_positions(batch, mask)]
    return float(sum(gaps) / max(len(gaps), 1))


def step_stats(rewards: list, generated_tokens: int, weights_version: str, update: dict,
               seconds: float) -> dict:
    """The step's record from every rollout's reward breakdown, over the whole batch."""
    n = len(rewards)
    components = {"alignment": sum(r.alignment for r in rewards) / n,
                  "min_token": sum(r.min_token for r in rewards) / n}
    components.update({p: sum(getattr(r, p) for r in rewards) / n for p in PENALTY_NAMES})
    return {
        "reward_mean": sum(r.total for r in rewards) / n,
        "components": components,
        "answer_preservation": sum(r.answer_preserved for r in rewards) / n,
        "passing_alignment_mean": passing_alignment(rewards),
        "rewrite_tokens_mean": generated_tokens / n,
        "length_ratio_mean": sum(r.length_ratio for r in rewards) / n,
        "generated_tokens": generated_tokens,
        "seconds": round(seconds, 3),
        "tokens_per_s": generated_tokens / max(seconds, 1e-9),
        "weights_version": weights_version,
        **update,
    }


def passing_alignment(rewards: list) -> float | None:
    """Mean alignment gain of the rewrites no penalty fired on: how much likelier the target
    finds the rewrites it accepts. The batch mean mixes in the gate's clip floor: with the
    quickstart's clip one more rejected rewrite in 64 moves it ~0.4 nats/token; this does not."""
    passing = [r.alignment for r in rewards if not r.penalised]
    return sum(passing) / len(passing) if passing else None


def batch_stats(batch: RolloutBatch, update: dict, seconds: float,
                target_style: str | None = None) -> dict:
    """step_stats over every rank's share: rewards and texts gathered, the update's
    diagnostics averaged over the ranks (equal shares, so the loss is the whole batch's);
    with the task's target style, the share of rewrites written in it."""
    update = ranks.mean_over_ranks(update)
    shares = ranks.gather_to_all(([r.reward for r in batch.rollouts], batch.completion_tokens(),
                                  [r.text for r in batch.rollouts]))
    rewards = [reward for share, _, _ in shares for reward in share]
    texts = [text for _, _, share in shares for text in share]
    tokens = sum(count for _, count, _ in shares)
    stats = step_stats(rewards, tokens, batch.rollouts[0].weights_version, update, seconds)
    stats |= group_diversity(texts, [r.total for r in rewards], batch.group_size)
    return stats | (style_stats(texts, target_style) if target_style else {})


def publish_weights(policy: Policy, paths: ckpt.LearnPaths, generator, step: int) -> str:
    """Rank 0 writes the adapter (or model), marked done, and has the generator swap to it;
    the other ranks wait for it, so no rank samples the next step from stale weights."""
    version = f"step-{step}"
    _publish(policy, paths, version, generator)
    VERSION.set(step)
    return version


def _publish(policy: Policy, paths: ckpt.LearnPaths, name: str, generator=None) -> Path:
    with gathered_weights(policy):  # collective under ZeRO-3, where each rank holds a shard
        if ranks.is_main():
            folder = ckpt.publish(paths, name, lambda out: save_weights(policy, out))
            if generator is not None:
                generator.load_weights(str(folder.resolve()), name)
    ranks.barrier()
    return paths.weights / name


def train(policy: Policy, items: list[dict], spec: DartRunSpec, services: LearnerServices,
          artifacts: Path) -> Path:
    """Run (or resume) GRPO to `learn.steps`; returns the final weights folder.

    Every rank runs this loop on its share of each step's demonstrations; rank 0 alone
    records progress and publishes (dart.learn.ranks)."""
    learn, paths = spec.learn, Artifacts(artifacts).learn()
    ranks.shard(list(range(learn.batch_size)), "learn.batchSize")  # fail before any work
    paths.root.mkdir(parents=True, exist_ok=True)
    start = _resume(policy, paths, services.generator)
    progress = Progress(paths.progress, paths.history, start, learn.steps) \
        if ranks.is_main() else None
    task = services.task or RewriteTask(services.scorer, services.verifier, learn.reward)
    run = _train_overlapped if learn.max_staleness > 0 else _train_in_turn
    try:
        run(policy, items, spec, services.generator, task, paths, start, progress)
    finally:
        if progress is not None:
            progress.close()
    return _publish(policy, paths, "final")


def step_rollouts(policy: Policy, items: list[dict], step: int, learn, generator,
                  task: RolloutTask, collect=collect_rollouts) -> RolloutBatch:
    """This rank's share of the rollouts of `step` (its demonstrations and seeds are a
    function of the step alone)."""
    first, share = ranks.shard(batch_for_step(items, step, learn.batch_size, learn.seed),
                               "learn.batchSize")
    return collect(share, tokenizer=policy.tokenizer, generator=generator, task=task,
                   config=learn, seed=learn.seed * 1_000_003 + step, first_index=first)


def _train_in_turn(policy: Policy, items: list[dict], spec: DartRunSpec, generator,
                   task: RolloutTask, paths: ckpt.LearnPaths, start: int, progress) -> None:
    """learn.maxStaleness 0: sample, score, update, one after the other."""
    learn = spec.learn
    for step in range(start, learn.steps):
        began = time.monotonic()
        batch = step_rollouts(policy, items, step, learn, generator, task)
        update = update_policy(policy, batch, spec)
        stats = batch_stats(batch, update, time.monotonic() - began, target_style(spec))
        if progress is not None:
            progress.record(step, stats)
        _after_step(policy, paths, generator, step + 1, learn)


def _train_overlapped(policy: Policy, items: list[dict], spec: DartRunSpec, generator,
                      task: RolloutTask, paths: ckpt.LearnPaths, start: int, progress) -> None:
    """learn.maxStaleness N >= 1: while the learner updates on step t, the generator
    samples steps up to t + N (dart.learn.overlap says when, so that runs repeat). A step's
    seconds run from the previous step's record to its own: its wait for rollouts, update,
    publish and checkpoint all count."""
    learn = spec.learn
    versions = PublishedVersions("base" if start == 0 else f"step-{start}")

    def collect(step: int) -> RolloutBatch:
        return step_rollouts(policy, items, step, learn, generator, task, stream_rollouts)

    last = time.monotonic()
    for stretch in checkpoint_stretches(start, learn.steps, learn.checkpoint_every):
        with RolloutPipeline(collect, stretch, learn.max_staleness) as pipeline:
            for step in stretch:
                batch, staleness = _fresh_enough(pipeline.take(step), step, versions, collect,
                                                 policy, paths, generator, learn)
                update = update_policy(policy, batch, spec, off_policy=True)
                stats = batch_stats(batch, {**update, "staleness": staleness},
                                    time.monotonic() - last, target_style(spec))
                last = time.monotonic()
                if progress is not None:
                    progress.record(step, stats)
                done = step + 1
                if done % learn.publish_every == 0 and done < learn.steps:
                    pipeline.settle(done)
                    ranks.barrier()  # every rank's sampling with the old weights is done
                    versions.published(publish_weights(policy, paths, generator, done))
                pipeline.release(done)
        _at_checkpoint(policy, paths, generator, stretch.stop, learn, versions)


def _fresh_enough(batch: RolloutBatch, step: int, versions: PublishedVersions, collect,
                  policy: Policy, paths: ckpt.LearnPaths, generator, learn
                  ) -> tuple[RolloutBatch, float]:
    """The batch and its staleness (the largest over the ranks), if within
    learn.maxStaleness; else the generator does not serve what it was given (a restart
    brings it back on its initial weights): publish the current weights again and
    resample the batch, once."""
    staleness = max(ranks.gather_to_all(versions.staleness(batch)))
    if staleness <= learn.max_staleness:
        return batch, staleness
    versions.published(publish_weights(policy, paths, generator, step))
    batch = collect(step)
    staleness = max(ranks.gather_to_all(versions.staleness(batch)))
    if staleness > learn.max_staleness:
        raise RuntimeError(f"the generator still serves weights version "
                           f"{batch.rollouts[0].weights_version!r} after being given "
                           f"step-{step}: it does not load what the learner publishes")
    return batch, staleness


def _at_checkpoint(policy: Policy, paths: ckpt.LearnPaths, generator, done: int, learn,
                   versions: PublishedVersions) -> None:
    """Nothing is in flight: publish (if not just done) so the generator serves these
    weights, as it does for a run resumed here, then checkpoint."""
    if done < learn.steps and done % learn.publish_every != 0:
        versions.published(publish_weights(policy, paths, generator, done))
    ckpt.save_checkpoint(paths, policy.engine, done)


def target_style(spec: DartRunSpec) -> str | None:
    """The style whose share the learner reports: the synthetic task's target style."""
    synthetic = spec.dataset.synthetic
    return synthetic.target_style if synthetic is not None else None


def _after_step(policy: Policy, paths: ckpt.LearnPaths, generator, done: int, learn) -> None:
    if done % learn.publish_every == 0 and done < learn.steps:
        publish_weights(policy, paths, generator, done)
    if done % learn.checkpoint_every == 0 or done == learn.steps:
        ckpt.save_checkpoint(paths, policy.engine, done)


def _resume(policy: Policy, paths: ckpt.LearnPaths, generator) -> int:
    """Restore the newest complete checkpoint on every rank; the generator gets the
    restored weights."""
    latest = ckpt.agreed_latest_checkpoint(paths)
    if latest is None:
        return 0
    step = ckpt.load_checkpoint(latest, policy.engine)
    publish_weights(policy, paths, generator, step)
    return step
