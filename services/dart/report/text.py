"""Small helpers every report section shares: reading optional artifacts, table cells."""

from __future__ import annotations

import json
from pathlib import Path


def read_jsonl(path: Path) -> list[dict]:
    """The rows of a JSONL artifact, or none when the stage did not write it."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def table_cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", "<br>")


def side_by_side(heading: str, original: str, rewrite: str, label: str) -> list[str]:
    """A demonstration's expert solution beside a rewrite of it."""
    return [heading, "", f"| expert (original) | {label} |", "|---|---|",
            f"| {table_cell(original)} | {table_cell(rewrite)} |", ""]
