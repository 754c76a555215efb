"""Where every stage's outputs live in the artifacts folder: the one place that spells it.

    learn/                     the mapper's learner (LearnPaths): checkpoints/step-N/,
                               weights/step-N/ and weights/final/ (learn is done when final is),
                               progress.json, history.jsonl
    synthesize/                shards/shard-I-of-N.jsonl (kept chunk by chunk in a hidden
                               .partial file while written), adapted.jsonl + .parquet,
                               adapted-dataset/ (datasets.save_to_disk), README.md (the
                               dataset card), summary.json; done when it holds the marker
    ablations/<arm>/           learn/ and synthesize/ of an ablation (no-rl, grape, no-penalties)
    direct-rl/                 learn/ of GRPO on the target, model/ (merged, loadable)
    sft/<arm>/seed-<i>/        model/, curve/step-N/ (first seed), stats.json; done when marked
    evaluate/                  runs/<model>.json (one per evaluated model), results.json
    report/                    report.md and its figures
    servers/                   logs of the inference servers a local run started

Pure path arithmetic (no I/O), so the operator may import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DART = "dart"
DIRECT_RL = "direct-rl"


@dataclass(frozen=True)
class LearnPaths:
    """One learner run's folder (the mapper's, an ablation's, or direct-rl's)."""

    root: Path

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    def checkpoint(self, step: int) -> Path:
        return self.checkpoints / f"step-{step:06d}"

    @property
    def weights(self) -> Path:
        return self.root / "weights"

    @property
    def progress(self) -> Path:
        return self.root / "progress.json"

    @property
    def history(self) -> Path:
        return self.root / "history.jsonl"

    @property
    def final(self) -> Path:
        """The trained weights, published last: learn is done once they are marked done."""
        return self.weights / "final"


def shard_name(index: int, count: int) -> str:
    return f"shard-{index:05d}-of-{count:05d}.jsonl"


def partial_shard(shard: Path) -> Path:
    """A shard's finished chunks while it is written (hidden: never taken for a shard)."""
    return shard.with_name(f".{shard.name}.partial")


@dataclass(frozen=True)
class SynthesizePaths:
    root: Path

    @property
    def shards(self) -> Path:
        return self.root / "shards"

    def shard(self, index: int, count: int) -> Path:
        return self.shards / shard_name(index, count)

    @property
    def dataset(self) -> Path:
        """The adapted dataset, the SFT data of its arm."""
        return self.root / "adapted.jsonl"

    @property
    def parquet(self) -> Path:
        return self.root / "adapted.parquet"

    @property
    def datasets_folder(self) -> Path:
        """The adapted dataset as `datasets.load_from_disk` reads it."""
        return self.root / "adapted-dataset"

    @property
    def card(self) -> Path:
        """The dataset card (the hub's README.md format)."""
        return self.root / "README.md"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"


@dataclass(frozen=True)
class SftPaths:
    """One SFT arm's run with one seed."""

    root: Path

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def stats(self) -> Path:
        return self.root / "stats.json"

    @property
    def curve(self) -> Path:
        return self.root / "curve"

    def curve_model(self, step: int) -> Path:
        return self.curve / f"step-{step:06d}"


@dataclass(frozen=True)
class Artifacts:
    """The artifacts folder of one run."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    def variant(self, arm: str = DART) -> Path:
        """Where an adapted arm's learn/ and synthesize/ live: the run's own for `dart`, a
        folder per ablation otherwise (so the stages run unchanged on it)."""
        return self.root if arm == DART else self.root / "ablations" / arm

    def learn(self, arm: str = DART) -> LearnPaths:
        return LearnPaths(self.variant(arm) / "learn")

    def synthesize(self, arm: str = DART) -> SynthesizePaths:
        return SynthesizePaths(self.variant(arm) / "synthesize")

    def servers(self, arm: str = DART) -> Path:
        return (self.direct_rl if arm == DIRECT_RL else self.variant(arm)) / "servers"

    @property
    def direct_rl(self) -> Path:
        return self.root / DIRECT_RL

    @property
    def direct_rl_learn(self) -> LearnPaths:
        return LearnPaths(self.direct_rl / "learn")

    @property
    def direct_rl_model(self) -> Path:
        return self.direct_rl / "model"

    def sft(self, arm: str, seed: int) -> SftPaths:
        return SftPaths(self.root / "sft" / arm / f"seed-{seed}")

    @property
    def evaluate(self) -> Path:
        return self.root / "evaluate"

    def evaluation(self, model: str) -> Path:
        """The cached scores of one evaluated model ("base", "dart/seed-0", ...)."""
        return self.evaluate / "runs" / f"{model}.json"

    @property
    def results(self) -> Path:
        return self.evaluate / "results.json"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"

    @property
    def report(self) -> Path:
        return self.report_dir / "report.md"
