"""Run the real kopf operator (in a thread, over HTTP) against the fake API server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from fake_apiserver import TOKEN, FakeApiServer
from kopf.testing import KopfRunner

NAMESPACE = "research"


def write_kubeconfig(folder: Path, server: str, token: str) -> Path:
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": server}}],
        "users": [{"name": "tester", "user": {"token": token}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "tester",
                                                   "namespace": NAMESPACE}}],
    }
    path = folder / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


@contextmanager
def fake_cluster(folder: Path, monkeypatch: Any, **settings: str) -> Iterator[FakeApiServer]:
    """The fake API server with the runs' namespace, and the environment the operator reads
    (kubeconfig, fast resyncs, no metrics or liveness ports); `settings` add DART_* values."""
    server = FakeApiServer().start()
    server.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(folder, server.url, TOKEN)))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    for name, value in {
        "DART_METRICS_PORT": "0", "DART_LIVENESS_ENDPOINT": "off", "DART_RESYNC_SECONDS": "0.3",
        "DART_IMAGE_WORKLOAD": "registry.example/dart:1.0",
        "DART_PROGRESS_URL": server.url + "/_progress/{namespace}/{service}", **settings,
    }.items():
        monkeypatch.setenv(name, value)
    try:
        yield server
    finally:
        server.stop()


def wait_until(check: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    """Poll until `check()` is truthy; fail with `what` and the last value otherwise."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        try:
            value = check()
        except (KeyError, TypeError, StopIteration):
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}: last value {value!r}")


@contextmanager
def running_operator(*extra_args: str) -> Iterator[KopfRunner]:
    """kopf run -m dart_operator, as the chart's container runs it (standalone here)."""
    args = ["run", "-m", "dart_operator", "--standalone", "--namespace", NAMESPACE, *extra_args]
    with KopfRunner(args, timeout=60) as runner:
        yield runner
    assert runner.exception is None, runner.output
    assert runner.exit_code == 0, runner.output
