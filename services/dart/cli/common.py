"""Arguments every stage command shares."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_stage_parser(subparsers: argparse._SubParsersAction, name: str, help: str,
                     description: str) -> argparse.ArgumentParser:
    """A sub-command reading one DartRun file and one artifacts folder."""
    parser = subparsers.add_parser(name, help=help, description=description)
    parser.add_argument("--config", required=True, help="DartRun YAML file")
    parser.add_argument("--artifacts", required=True, type=Path, help="artifacts folder")
    return parser


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """--generator/--scorer: use running servers, or start both here when neither is given."""
    parser.add_argument("--generator", help="generator server HOST:PORT (default: start one)")
    parser.add_argument("--scorer", help="scorer server HOST:PORT (default: start one)")
