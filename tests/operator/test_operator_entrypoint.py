"""`dart-operator` as the chart runs it: a process configured by DART_* variables, serving
metrics and kopf's liveness endpoint, stopping cleanly on SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import urllib.request

import pytest
from fake_apiserver import TOKEN, FakeApiServer
from operator_harness import NAMESPACE, wait_until, write_kubeconfig
from operator_kinds import make_run
from test_progress_sidecar import free_port

pytestmark = pytest.mark.timeout(90)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.read().decode()


def test_dart_operator_runs_serves_metrics_and_liveness_and_stops_on_sigterm(tmp_path):
    executable = shutil.which("dart-operator", path=os.path.dirname(sys.executable))
    assert executable, "dart-operator is not installed (pip install -e .)"
    api = FakeApiServer().start()
    try:
        api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        api.create(make_run())
        metrics_port, live_port = free_port(), free_port()
        env = {**os.environ, "KUBECONFIG": str(write_kubeconfig(tmp_path, api.url, TOKEN)),
               "DART_WATCH_NAMESPACES": NAMESPACE, "DART_METRICS_PORT": str(metrics_port),
               "DART_LIVENESS_ENDPOINT": f"http://127.0.0.1:{live_port}/healthz"}
        env.pop("KUBERNETES_SERVICE_HOST", None)
        proc = subprocess.Popen([executable], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            # a fresh process imports kopf and the spec models first: slow on a busy machine
            wait_until(lambda: api.get("Deployment", NAMESPACE, "demo-scorer"), timeout=90,
                       what="the operator's first reconcile")
            reconciled = 'dart_operator_reconciles_total{result="success"}'
            wait_until(lambda: reconciled in fetch(f"http://127.0.0.1:{metrics_port}/metrics"),
                       what="metrics of the first reconcile")
            assert wait_until(lambda: fetch(f"http://127.0.0.1:{live_port}/healthz"))
        finally:
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, output
    finally:
        api.stop()
