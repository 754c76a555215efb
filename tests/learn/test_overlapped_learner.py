"""learn.maxStaleness against real servers on loopback, tiny untrained models, in-process
learners (learning quality does not matter here; what each step trained on does):

- maxStaleness 0 is the synchronous loop: the same rewards, losses and adapter, bit for bit,
  as sample-everything -> score -> update -> publish written out by hand.
- maxStaleness 1: every step but the first after a checkpoint trains on rollouts one version
  old (really older: the learner and generator log-probs differ), corrected by importance
  weights; a crash while the next step's rollouts are in flight resumes from the checkpoint
  and repeats the uninterrupted run.
- A generator that comes back on its initial weights (a restarted pod) serves rollouts older
  than the bound: they are never trained on; the learner publishes again and resamples.
"""

from pathlib import Path

import pytest
from safetensors.torch import load_file

from dart.config.load import parse_dartrun
from dart.config.model_uri import resolve_model
from dart.learn.loop import LearnerServices, batch_for_step, train, update_policy
from dart.learn.policy import build_policy, save_weights
from dart.learn.rollout import collect_rollouts
from dart.learn.tasks import RewriteTask

pytestmark = pytest.mark.slow

REWARD_TOLERANCE = 1e-6  # groups are scored as they finish: the scorer's batches vary
LOSS_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """(target folder, generator client, scorer client, verifier, demonstrations)."""
    from dart.data.load import load_demonstrations
    from dart.local.servers import local_servers
    from dart.models.tiny import build_tiny_model
    from dart.serving.client import GeneratorClient, ScorerClient
    from dart.verify import verifier_for

    root = tmp_path_factory.mktemp("overlap")
    target = build_tiny_model(root / "target")
    spec = spec_for(target, max_staleness=0, steps=1)
    with local_servers(spec, root / "servers") as (gen_address, scorer_address), \
            verifier_for(spec) as verifier, GeneratorClient(gen_address) as generator, \
            ScorerClient(scorer_address) as scorer:
        items = load_demonstrations(spec.dataset, verifier).rows
        yield target, generator, scorer, verifier, items


def spec_for(target: Path, *, max_staleness: int, steps: int, checkpoint_every: int = 0):
    # Penalties off and a wide clip: an untrained model's rewrites differ in alignment only,
    # so advantages are not 0; lr 1e-2 moves the weights visibly in one step.
    return parse_dartrun({
        "apiVersion": "dart.ai/v1alpha1", "kind": "DartRun", "metadata": {"name": "overlap"},
        "spec": {"models": {"target": {"uri": str(target)}},
                 "dataset": {"synthetic": {"trainSize": 16, "evalSize": 4}},
                 "learn": {"steps": steps, "batchSize": 2, "groupSize": 2, "maxNewTokens": 8,
                           "publishEvery": 1, "checkpointEvery": checkpoint_every or steps,
                           "learningRate": 1e-2, "maxStaleness": max_staleness,
                           "reward": {"penalties": {"enabled": False},
                                      "clip": {"low": -100.0, "high": 100.0}}}}}).spec


def learn(servers, spec, artifacts: Path, generator=None) -> list[dict]:
    """A fresh learner from the last checkpoint in `artifacts` (or scratch): its history."""
    target, real_generator, scorer, verifier, items = servers
    generator = generator or real_generator
    if not (artifacts / "learn" / "checkpoints").exists():
        real_generator.load_weights(str(target), "base")  # what a fresh run starts from
    policy = fresh_policy(spec)
    train(policy, items, spec, LearnerServices(generator, scorer, verifier), artifacts)
    return history(artifacts)


def fresh_policy(spec):
    return build_policy(resolve_model(spec.models.target), spec.models.mapper, spec.learn)


def history(artifacts: Path) -> list[dict]:
    import json

    lines = (artifacts / "learn" / "history.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line]


def adapter(folder: Path) -> dict:
    return load_file(str(folder / "adapter_model.safetensors"))


def in_turn_by_hand(servers, spec, out: Path) -> list[dict]:
    """The synchronous loop as it stood before overlapping: per step all groups sampled,
    then all scored, one update, then the publish."""
    target, generator, scorer, verifier, items = servers
    learn_ = spec.learn
    generator.load_weights(str(target), "base")
    policy, task = fresh_policy(spec), RewriteTask(scorer, verifier, learn_.reward)
    rows = []
    for step in range(learn_.steps):
        batch = collect_rollouts(batch_for_step(items, step, learn_.batch_size, learn_.seed),
                                 tokenizer=policy.tokenizer, generator=generator, task=task,
                                 config=learn_, seed=learn_.seed * 1_000_003 + step)
        update = update_policy(policy, batch, spec)
        rows.append({"reward_mean": sum(r.reward.total for r in batch.rollouts) / 4, **update})
        if step + 1 < learn_.steps:
            save_weights(policy, out / f"step-{step + 1}")
            generator.load_weights(str(out / f"step-{step + 1}"), f"step-{step + 1}")
    save_weights(policy, out / "final")
    return rows


def test_staleness_zero_is_the_in_turn_loop_bit_for_bit(servers, tmp_path):
    spec = spec_for(servers[0], max_staleness=0, steps=2)
    ours = learn(servers, spec, tmp_path / "a")
    by_hand = in_turn_by_hand(servers, spec, tmp_path / "by-hand")
    for key in ("reward_mean", "loss", "policy_loss", "approx_kl_old"):
        assert [row[key] for row in ours] == [row[key] for row in by_hand], key
    assert all("staleness" not in row and "importance_weight_mean" not in row for row in ours)
    final = adapter(tmp_path / "a/learn/weights/final")
    expected = adapter(tmp_path / "by-hand/final")
    assert final.keys() == expected.keys()
    assert all(final[k].equal(expected[k]) for k in final)


class CrashWhileSampling(Exception):
    pass


class Generator:
    """The real client, with a fault: a crash on the n-th Generate call, or the server
    restarted on its initial weights right after it loads version `restart_after`."""

    def __init__(self, client, target: Path, crash_at_call: int = -1, restart_after: str = ""):
        self.client, self.target = client, target
        self.crash_at_call, self.restart_after, self.calls = crash_at_call, restart_after, 0

    def generate(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.crash_at_call:
            raise CrashWhileSampling("the learner died here")
        return self.client.generate(*args, **kwargs)

    def load_weights(self, path, version, **kwargs):
        done = self.client.load_weights(path, version, **kwargs)
        if version == self.restart_after:
            self.client.load_weights(str(self.target), "base")
        return done


def test_staleness_one_trains_a_version_behind_and_resumes_mid_flight_exactly(servers,
                                                                                tmp_path):
    spec = spec_for(servers[0], max_staleness=1, steps=4, checkpoint_every=2)
    whole = learn(servers, spec, tmp_path / "whole")
    # After each checkpoint nothing is in flight; the next step is sampled during an update.
    assert [row["staleness"] for row in whole] == [0, 1, 0, 1]
    assert [row["weights_version"] for row in whole] == ["base", "base", "step-2", "step-2"]
    fresh = [row["sampler_mismatch"] for row in whole if row["staleness"] == 0]
    stale = [row["sampler_mismatch"] for row in whole if row["staleness"] == 1]
    assert max(fresh) < 1e-3 < min(stale), (fresh, stale)  # the lag is real ...
    assert all(row["importance_weight_mean"] != 1.0 for row in whole if row["staleness"])
    # ... and a crash while step 4's rollouts are sampled (2 groups a step) resumes exactly.
    crashing = Generator(servers[1], servers[0], crash_at_call=2 * 3 + 1)
    with pytest.raises(CrashWhileSampling):
        learn(servers, spec, tmp_path / "crashed", generator=crashing)
    resumed = learn(servers, spec, tmp_path / "crashed")
    assert [row["step"] for row in resumed] == [1, 2, 3, 4]
    for ours, theirs in zip(resumed, whole, strict=True):
        assert ours["weights_version"] == theirs["weights_version"]
        assert ours["reward_mean"] == pytest.approx(theirs["reward_mean"], abs=REWARD_TOLERANCE)
        assert ours["loss"] == pytest.approx(theirs["loss"], abs=LOSS_TOLERANCE)


def test_rollouts_older_than_the_bound_are_resampled_never_trained_on(servers, tmp_path):
    spec = spec_for(servers[0], max_staleness=1, steps=3)
    restarting = Generator(servers[1], servers[0], restart_after="step-1")
    rows = learn(servers, spec, tmp_path / "a", generator=restarting)
    # Step 3's rollouts came back from weights "base", 2 versions old: published again
    # (step-2) and resampled, instead of the step-1 rollouts an intact generator gives.
    assert [row["weights_version"] for row in rows] == ["base", "base", "step-2"]
    assert [row["staleness"] for row in rows] == [0, 1, 0]
