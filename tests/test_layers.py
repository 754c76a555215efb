"""The layers (pyproject [tool.importlinter]) hold: the core imports no engine, no stage
imports another, the operator reads only the spec, the plan and the artifacts layout.
CI runs `lint-imports` too; this keeps the check in the README's test command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_every_import_contract_is_kept():
    tool = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if tool is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'services'}:{REPO / 'operator'}"}
    out = subprocess.run([tool, "--no-cache"], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "3 kept, 0 broken" in out.stdout
