"""The monitoring tests drive the real operator against the fake API server (tests/operator)
and read the chart's dashboard and rules (tests/chart): their helpers are importable here."""

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for folder in ("operator", "chart"):
    if str(TESTS / folder) not in sys.path:
        sys.path.append(str(TESTS / folder))
