"""JSON-lines logs (DART_LOG_FORMAT=json): one object per event, naming run, stage and step."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

from dart import logs
from dart.learn.progress import Progress


def test_a_cli_error_is_one_json_line_with_run_and_stage(tmp_path):
    env = {**os.environ, "DART_LOG_FORMAT": "json", "DART_RUN_NAME": "demo"}
    done = subprocess.run([sys.executable, "-m", "dart", "validate", str(tmp_path / "no.yaml")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    event = json.loads(line)
    assert event["level"] == "error" and event["run"] == "demo"
    assert event["stage"] == "validate" and "no.yaml" in event["message"]
    assert event["time"].endswith("Z")


def test_text_mode_keeps_the_error_prefix(monkeypatch):
    monkeypatch.delenv("DART_LOG_FORMAT", raising=False)
    assert logs.error_line("bad spec") == "error: bad spec"


def test_every_learner_step_is_an_event_with_its_step(tmp_path, monkeypatch):
    monkeypatch.setenv("DART_RUN_NAME", "demo")
    monkeypatch.delenv("DART_LOG_FORMAT", raising=False)
    assert logs.configure(stage="learn") is False  # text mode: stage kept, logging untouched
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("dart.learn.progress")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        progress = Progress(tmp_path / "progress.json", tmp_path / "history.jsonl", 0, 8)
        stats = {"reward_mean": 0.5, "answer_preservation": 0.75, "kl": 0.0,
                 "tokens_per_s": 10.0, "components": {"alignment": 0.1}}
        for step in range(2):
            progress.record(step, stats)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        logs.configure(stage=None)
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["step"] for e in events] == [1, 2]
    assert {e["run"] for e in events} == {"demo"} and {e["stage"] for e in events} == {"learn"}
    assert events[1]["message"] == "step 2/8 reward 0.500 kept 0.75"
