"""The sft stage: every SFT arm fine-tuned once per evaluation seed, identical settings, each
(arm, seed) skipped once done.

Arms (dart.arms): `dart` and the ablations train on their synthesize output, `sft-original`
on the demonstrations as given, `sft-oracle` on the same problems in the target's native
style. Seed i trains with sft.seed + i; the first seed also keeps `evaluate.curvePoints`
intermediate models for the report's curves.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from dart import interrupts
from dart.arms import ADAPTED_ARMS, adapted_dataset, sft_arms
from dart.config.model_uri import resolve_model
from dart.config.spec import DartRunSpec
from dart.errors import UserError
from dart.sft.train import DONE, fine_tune, is_main_process


def run_dir(artifacts: Path, arm: str, seed: int) -> Path:
    return artifacts / "sft" / arm / f"seed-{seed}"


def run_model(artifacts: Path, arm: str, seed: int) -> Path:
    return run_dir(artifacts, arm, seed) / "model"


def sft_done(spec: DartRunSpec, artifacts: Path) -> bool:
    return all((run_model(artifacts, arm, seed) / DONE).exists()
               for arm in sft_arms(spec) for seed in range(spec.evaluate.seeds))


def arm_rows(arm: str, spec: DartRunSpec, artifacts: Path) -> list[dict]:
    """The training rows of an SFT arm."""
    if arm in ADAPTED_ARMS:
        adapted = adapted_dataset(artifacts, arm)
        if not adapted.exists():
            raise UserError(f"no adapted dataset for the {arm} arm at {adapted}: run "
                            "`dart run` (or the synthesize stage) first")
        return [json.loads(line) for line in adapted.read_text().splitlines() if line]
    if arm == "sft-oracle":
        return oracle_rows(spec)
    from dart.data.load import load_demonstrations
    from dart.verify import verifier_for

    with verifier_for(spec) as verifier:
        return load_demonstrations(spec.dataset, verifier).rows


def oracle_rows(spec: DartRunSpec) -> list[dict]:
    """The training problems of the synthetic dataset, written in the target's native style:
    what a perfect mapper would produce."""
    from dart.data.synthetic import generate_split

    source = spec.dataset.synthetic
    rows = generate_split("train", seed=source.seed, size=source.train_size, style="native",
                          replay_fraction=source.replay_fraction)
    return rows[: spec.dataset.limit] if spec.dataset.limit else rows


def run_sft_stage(spec: DartRunSpec, artifacts: Path, log=print) -> dict[str, dict]:
    """{"arm/seed-i": stats} for every SFT arm and seed, training what is not done yet."""
    results = {}
    for arm in sft_arms(spec):
        rows = None
        for seed in range(spec.evaluate.seeds):
            stats_file = run_dir(artifacts, arm, seed) / "stats.json"
            if (run_model(artifacts, arm, seed) / DONE).exists() and stats_file.exists():
                log(f"sft[{arm}, seed {seed}]: already done; skipping")
                stats = json.loads(stats_file.read_text())
            else:
                interrupts.raise_if_requested()  # a Ctrl-C swallowed during the last run
                rows = rows if rows is not None else arm_rows(arm, spec, artifacts)
                log(f"sft[{arm}, seed {seed}]: fine-tuning the target on {len(rows)} rows")
                stats = _fine_tune_seed(spec, rows, run_dir(artifacts, arm, seed), seed)
            results[f"{arm}/seed-{seed}"] = stats
    return results


def _fine_tune_seed(spec: DartRunSpec, rows: list[dict], out_dir: Path, seed: int) -> dict:
    settings = spec.sft.model_copy(update={"seed": spec.sft.seed + seed})
    points = spec.evaluate.curve_points if seed == 0 else 0
    began = time.monotonic()
    stats = fine_tune(resolve_model(spec.models.target), rows, settings, out_dir, points)
    stats["wall_seconds"] = round(time.monotonic() - began, 1)
    if is_main_process():  # under torchrun, one writer
        (out_dir / "stats.json").write_text(json.dumps(stats, indent=2))
    return stats
