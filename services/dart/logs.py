"""Log lines for a person, or for a log pipeline: `DART_LOG_FORMAT=json` (the chart's default
in pods) makes every log record and every `error:` line one JSON object per line.

    {"time": "2026-12-01T20:31:52.123Z", "level": "info", "logger": "dart.learn.progress",
     "message": "step 4/8 reward 0.312 kept 0.94", "run": "demo", "stage": "learn", "step": 4}

`run` is the pod's DART_RUN_NAME (set by the operator), `stage` the command or unit the
process runs, `step` whatever a record carries as `extra={"step": N}`. Text (the default)
leaves logging as each entrypoint configures it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

FORMAT_ENV = "DART_LOG_FORMAT"
_stage: str | None = None


def json_wanted() -> bool:
    return os.environ.get(FORMAT_ENV, "text").strip().lower() == "json"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the run, stage and step it belongs to."""

    def format(self, record: logging.LogRecord) -> str:
        entry = event(record.getMessage(), record.levelname.lower(), record.name,
                      getattr(record, "step", None), record.created)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def event(message: str, level: str = "info", logger: str = "dart", step: int | None = None,
          created: float | None = None) -> dict:
    created = time.time() if created is None else created
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    entry = {"time": f"{stamp}.{int(created % 1 * 1000):03d}Z", "level": level,
             "logger": logger, "message": message, "run": os.environ.get("DART_RUN_NAME"),
             "stage": _stage, "step": step}
    return {key: value for key, value in entry.items() if value is not None}


def configure(stage: str | None, level: int = logging.INFO) -> bool:
    """JSON lines on stderr for every logger when DART_LOG_FORMAT=json; True if so."""
    global _stage
    _stage = stage
    if not json_wanted():
        return False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    return True


def error_line(message: str) -> str:
    """What the CLI prints for an error: `error: ...`, or its JSON event."""
    if json_wanted():
        return json.dumps(event(message, "error", "dart.cli"))
    return f"error: {message}"
