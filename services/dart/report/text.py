"""Small helpers every report section shares: reading optional artifacts, table cells."""

from __future__ import annotations

from pathlib import Path

from dart import artifacts
from dart.artifacts import read_jsonl  # the rows, or none when the stage did not write it

__all__ = ["read_json", "read_jsonl", "side_by_side", "table_cell"]


def read_json(path: Path) -> dict:
    """An optional artifact: empty when the stage did not write it, one error when torn."""
    return artifacts.read_json(path) if path.exists() else {}


def table_cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", "<br>")


def side_by_side(heading: str, original: str, rewrite: str, label: str) -> list[str]:
    """A demonstration's expert solution beside a rewrite of it."""
    return [heading, "", f"| expert (original) | {label} |", "|---|---|",
            f"| {table_cell(original)} | {table_cell(rewrite)} |", ""]
