"""`dart run`: the whole DART pipeline on this machine (the embedded default).

    dart run examples/01-quickstart.yaml                 # artifacts in runs/quickstart
    dart run examples/01-quickstart.yaml --out /tmp/q    # elsewhere

Starts the generator and scorer servers as child processes on free loopback ports, runs
every unit of the run's plan (dart.plan: learn, synthesize, ablations, direct-rl, one SFT per
arm and seed, evaluate) and writes OUT/report/report.md. Run the same command
again after a crash or Ctrl-C: finished stages are skipped and the learner resumes.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import yaml

from dart.artifacts import Artifacts, atomic_write_text
from dart.config.load import load_dartrun, read_yaml_document
from dart.errors import UserError
from dart.report.summary import terminal_summary


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="run every unit of the plan locally, then the report",
        description="Run the whole pipeline on this machine; re-run to resume.")
    parser.add_argument("file", help="DartRun YAML file")
    parser.add_argument("--out", type=Path, help="artifacts folder (default runs/<name>)")
    parser.add_argument("--verbose", action="store_true",
                        help="show the libraries' logs and progress bars (TRL, DeepSpeed, ...)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dart.local.pipeline import run_pipeline

    dartrun = load_dartrun(args.file)
    out = args.out or Path("runs") / dartrun.metadata.name
    # What a pod gets from the operator: logs and tracker runs carry the run's name.
    os.environ.setdefault("DART_RUN_NAME", dartrun.metadata.name)
    _pin_spec(out, dartrun.model_dump(mode="json", by_alias=True))
    report = run_pipeline(dartrun.spec, out)
    results = json.loads(Artifacts(out).results.read_text())
    print(terminal_summary(results, report))
    return 0


def _pin_spec(out: Path, document: dict) -> None:
    """Artifacts belong to one spec: refuse to mix in the outputs of another."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder for the artifacts")
    pinned = out / "dartrun.yaml"
    if pinned.exists():
        if _pinned_spec(pinned) != document["spec"]:
            raise UserError(f"{out} holds a run of a different spec ({pinned}); "
                            "use another --out or delete that folder")
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(pinned, yaml.safe_dump(document, sort_keys=False))
    except OSError as error:
        raise UserError(f"cannot write the artifacts folder {out} ({error.strerror or error}); "
                        "give a writable --out") from None


def _pinned_spec(pinned: Path) -> dict | None:
    """The spec a folder was started with; a torn or foreign file is the user's to remove."""
    document = read_yaml_document(pinned, what="pinned DartRun (out/dartrun.yaml)")
    if not isinstance(document, dict) or not isinstance(document.get("spec"), dict):
        raise UserError(f"{pinned} is not a DartRun this command wrote (no spec mapping); "
                        "delete it, or the folder, and run again")
    return document["spec"]
