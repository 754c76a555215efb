"""The sft stage: every SFT arm fine-tuned once per evaluation seed, identical settings, each
(arm, seed) skipped once done.

Arms (dart.arms): `dart` and the ablations train on their synthesize output, `sft-original`
on the demonstrations as given, `sft-oracle` on the same problems in the target's native
style. Seed i trains with sft.seed + i; the first seed also keeps `evaluate.curvePoints`
intermediate models for the report's curves.
"""

from __future__ import annotations

import time
from pathlib import Path

from dart import interrupts
from dart.arms import is_adapted, sft_arms
from dart.artifacts import Artifacts, atomic_write_json, is_done, mark_done, read_json, read_jsonl
from dart.config.model_uri import target_source
from dart.config.spec import DartRunSpec
from dart.errors import UserError
from dart.sft.card import write_model_card
from dart.sft.train import fine_tune, is_main_process


def sft_run_done(artifacts: Path, arm: str, seed: int) -> bool:
    """Model and stats both written: the run folder is marked last."""
    return is_done(Artifacts(artifacts).sft(arm, seed).root)


def sft_done(spec: DartRunSpec, artifacts: Path) -> bool:
    return all(sft_run_done(artifacts, arm, seed)
               for arm in sft_arms(spec) for seed in range(spec.evaluate.seeds))


def arm_rows(arm: str, spec: DartRunSpec, artifacts: Path) -> list[dict]:
    """The training rows of an SFT arm."""
    if is_adapted(arm):
        synthesized = Artifacts(artifacts).synthesize(arm)
        if not is_done(synthesized.root):
            raise UserError(f"no adapted dataset for the {arm} arm at {synthesized.dataset}: "
                            "run `dart run` (or the synthesize stage) first")
        return read_jsonl(synthesized.dataset)
    if arm == "sft-oracle":
        return oracle_rows(spec)
    from dart.data.load import load_demonstrations
    from dart.verify import verifier_for

    with verifier_for(spec) as verifier:
        return load_demonstrations(spec.dataset, verifier).rows


def oracle_rows(spec: DartRunSpec) -> list[dict]:
    """The training problems of the synthetic dataset, written in the target's native style
    (`dataset.synthetic.targetStyle`): what a perfect mapper would produce."""
    from dart.data.synthetic import generate_split

    source = spec.dataset.synthetic
    rows = generate_split("train", seed=source.seed, size=source.train_size,
                          style=source.target_style,
                          replay_fraction=source.replay_fraction)
    return rows[: spec.dataset.limit] if spec.dataset.limit else rows


def run_sft_stage(spec: DartRunSpec, artifacts: Path, log=print) -> dict[str, dict]:
    """{"arm/seed-i": stats} for every SFT arm and seed, training what is not done yet."""
    return {f"{arm}/seed-{seed}": run_sft_unit(spec, artifacts, arm, seed, log)
            for arm in sft_arms(spec) for seed in range(spec.evaluate.seeds)}


def run_sft_unit(spec: DartRunSpec, artifacts: Path, arm: str, seed: int, log=print) -> dict:
    """One arm fine-tuned with one seed (skipped once done); its stats. Under torchrun every
    rank trains and gets the stats returned: rank 0 alone writes them (after the others have
    moved on), so no rank reads them back from disk."""
    paths = Artifacts(artifacts).sft(arm, seed)
    if sft_run_done(artifacts, arm, seed):
        log(f"sft[{arm}, seed {seed}]: already done; skipping")
        return read_json(paths.stats)
    interrupts.raise_if_requested()  # a Ctrl-C swallowed during the last run
    rows = arm_rows(arm, spec, artifacts)
    log(f"sft[{arm}, seed {seed}]: fine-tuning the target on {len(rows)} rows")
    return _fine_tune_seed(spec, rows, paths.root, seed, arm)


def _fine_tune_seed(spec: DartRunSpec, rows: list[dict], out_dir: Path, seed: int,
                    arm: str) -> dict:
    settings = spec.sft.model_copy(update={"seed": spec.sft.seed + seed})
    points = spec.evaluate.curve_points if seed == 0 else 0
    began = time.monotonic()
    stats = fine_tune(target_source(spec), rows, settings, out_dir, points)
    stats["wall_seconds"] = round(time.monotonic() - began, 1)
    if is_main_process():  # under torchrun, one writer of the stats and the marker
        atomic_write_json(out_dir / "stats.json", stats)
        write_model_card(out_dir / "model", spec, arm, seed, stats)
        mark_done(out_dir)
    return stats
