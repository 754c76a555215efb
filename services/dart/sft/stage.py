"""The sft stage: one fine-tune per arm, identical settings, each skipped once done.

Arms: `dart` trains on artifacts/synthesize/adapted.jsonl; `baseline` (when spec.sft.baseline)
on the original demonstrations, the plain-SFT control of the A/B.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from dart.config.model_uri import resolve_model
from dart.config.spec import DartRunSpec
from dart.errors import UserError
from dart.sft.train import DONE, fine_tune


def arm_dir(artifacts: Path, arm: str) -> Path:
    return artifacts / "sft" / arm


def arm_model(artifacts: Path, arm: str) -> Path:
    return arm_dir(artifacts, arm) / "model"


def sft_arms(spec: DartRunSpec) -> list[str]:
    return ["dart", "baseline"] if spec.sft.baseline else ["dart"]


def sft_done(spec: DartRunSpec, artifacts: Path) -> bool:
    return all((arm_model(artifacts, arm) / DONE).exists() for arm in sft_arms(spec))


def _rows_for(arm: str, spec: DartRunSpec, artifacts: Path) -> list[dict]:
    if arm == "dart":
        adapted = artifacts / "synthesize/adapted.jsonl"
        if not adapted.exists():
            raise UserError(f"no adapted dataset at {adapted}: run the synthesize stage first")
        return [json.loads(line) for line in adapted.read_text().splitlines() if line]
    from dart.data.load import load_demonstrations
    from dart.verify import verifier_for

    with verifier_for(spec) as verifier:
        return load_demonstrations(spec.dataset, verifier).rows


def run_sft_stage(spec: DartRunSpec, artifacts: Path, log=print) -> dict[str, dict]:
    source = resolve_model(spec.models.target)
    results = {}
    for arm in sft_arms(spec):
        stats_file = arm_dir(artifacts, arm) / "stats.json"
        if (arm_model(artifacts, arm) / DONE).exists() and stats_file.exists():
            results[arm] = json.loads(stats_file.read_text())
            log(f"sft[{arm}]: already done; skipping")
            continue
        rows = _rows_for(arm, spec, artifacts)
        log(f"sft[{arm}]: fine-tuning the target on {len(rows)} rows")
        began = time.monotonic()
        stats = fine_tune(source, rows, spec.sft, arm_dir(artifacts, arm))
        stats["wall_seconds"] = round(time.monotonic() - began, 1)
        stats_file.write_text(json.dumps(stats, indent=2))
        results[arm] = stats
    return results
