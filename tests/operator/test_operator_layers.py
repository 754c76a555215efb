"""Layering, checked rather than hoped for: the desired-state modules stay pure (no kopf, no
client, no network). What the operator may import from the services (the spec, the plan,
the artifacts layout) is an import-linter contract in pyproject.toml."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "operator" / "dart_operator"
PURE = ("settings", "naming", "pods", "storage", "servers", "jobs", "stages", "assess",
        "desired", "conditions", "progress", "rbac", "trouble")
IMPURE_ROOTS = {"kopf", "kubernetes_asyncio", "aiohttp", "prometheus_client", "asyncio"}


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("name", PURE)
def test_desired_state_modules_are_pure(name):
    roots = {m.split(".")[0] for m in imported_modules(PACKAGE / f"{name}.py")}
    assert not roots & IMPURE_ROOTS, roots & IMPURE_ROOTS
    impure_siblings = {"dart_operator.kube", "dart_operator.reconcile", "dart_operator.handlers",
                       "dart_operator.metrics"}
    assert not imported_modules(PACKAGE / f"{name}.py") & impure_siblings
