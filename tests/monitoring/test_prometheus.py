"""The shipped Grafana dashboard and alert rules against a real Prometheus.

Prometheus (Debian's package) scrapes, on loopback, a real generator and scorer, a learner
training against them and the real operator reconciling two DartRuns against the fake API
server, with the labels the chart's PodMonitor and ServiceMonitor give them. Then every
PromQL expression of the dashboard, Grafana's variables substituted, must return series with
a value; the chart's alert rules load there, evaluate without error, and a failed run fires
DartRunFailed.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from fake_apiserver import TOKEN, FakeApiServer
from operator_harness import NAMESPACE, wait_until, write_kubeconfig
from operator_kinds import make_run
from prometheus_process import running_prometheus
from test_dashboard import DASHBOARD, expressions
from test_progress_sidecar import free_port

from dart.serving.client import GeneratorClient, InferenceError, ScorerClient

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "charts" / "dart" / "alerts" / "dart-rules.yaml"
RUN, FAILED_RUN = "demo", "broken"
OPERATOR_NAMESPACE = "dart-system"
# Grafana's variables, as the dashboard resolves them for one run (1 s scrapes here).
GRAFANA_VARIABLES = {"$__rate_interval": "15s", "$__range": "5m",
                     "$namespace": NAMESPACE, "$run": RUN}
pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]


def learner_spec(paths) -> dict:
    """A learner that keeps stepping (and publishing) until the test stops it."""
    return {"apiVersion": "dart.ai/v1alpha1", "kind": "DartRun", "metadata": {"name": RUN},
            "spec": {
                "models": {"target": {"uri": str(paths.target)},
                           "mapper": {"init": {"uri": str(paths.mapper)}, "training": "lora"}},
                "dataset": {"synthetic": {"seed": 0, "trainSize": 64, "evalSize": 8}},
                "verifier": {"type": "numeric"},
                "learn": {"steps": 1000, "batchSize": 2, "groupSize": 2, "maxNewTokens": 48,
                          "publishEvery": 1, "checkpointEvery": 1000}}}


def grafana_query(expr: str) -> str:
    """The expression Grafana sends; label_values(expr, label) becomes expr."""
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return re.sub(r"^label_values\((.*),\s*\w+\)$", r"\1", expr)


def scrape_configs(targets: dict[str, int], operator_port: int) -> list[dict]:
    """The workloads as the PodMonitor labels them (namespace, pod, and the run from the
    pod's dart.ai/run label); the operator as the ServiceMonitor does (honorLabels: the
    progress gauge's own namespace label wins over the operator pod's)."""
    workloads = [{"targets": [f"127.0.0.1:{port}"],
                  "labels": {"namespace": NAMESPACE, "run": RUN, "pod": f"{RUN}-{name}-0"}}
                 for name, port in targets.items()]
    operator = [{"targets": [f"127.0.0.1:{operator_port}"],
                 "labels": {"namespace": OPERATOR_NAMESPACE, "pod": "dart-0"}}]
    return [{"job_name": "dart-workloads", "static_configs": workloads},
            {"job_name": "dart-operator", "honor_labels": True, "static_configs": operator}]


def start_server(tmp_path: Path, role: str, model: Path, grpc: dict[str, str],
                 ports: dict[str, int]) -> subprocess.Popen:
    command = [sys.executable, "-m", "dart", "serve", role, "--model", str(model),
               "--port", grpc[role].rsplit(":", 1)[1], "--metrics-port", str(ports[role]),
               "--threads", "1"]
    log = (tmp_path / f"{role}.log").open("w")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def start_learner(tmp_path: Path, spec_file: Path, generator: str, scorer: str,
                  port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "dart", "learn", "--config", str(spec_file),
               "--artifacts", str(tmp_path / "artifacts"), "--generator", generator,
               "--scorer", scorer, "--metrics-port", str(port)]
    log = (tmp_path / "learn.log").open("w")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


def start_operator(tmp_path: Path, api: FakeApiServer, port: int) -> subprocess.Popen:
    env = {**os.environ, "KUBECONFIG": str(write_kubeconfig(tmp_path, api.url, TOKEN)),
           "DART_WATCH_NAMESPACES": NAMESPACE, "DART_METRICS_PORT": str(port),
           "DART_LIVENESS_ENDPOINT": "off", "DART_RESYNC_SECONDS": "0.3",
           "DART_IMAGE_WORKLOAD": "registry.example/dart:1.0",
           "DART_PROGRESS_URL": api.url + "/_progress/{namespace}/{service}"}
    env.pop("KUBERNETES_SERVICE_HOST", None)
    log = (tmp_path / "operator.log").open("w")
    executable = shutil.which("dart-operator", path=os.path.dirname(sys.executable))
    assert executable, "dart-operator is not installed (pip install -e .)"
    return subprocess.Popen([executable], env=env, stdout=log, stderr=subprocess.STDOUT)


def provoke_rpc_errors(generator: str, scorer: str) -> None:
    """One refused request per server, so the RPC-error panels have a series to show."""
    with GeneratorClient(generator) as client:
        client.wait_ready(120)
        with pytest.raises(InferenceError):
            client.generate(["1+1"], n=10_000)
    with ScorerClient(scorer) as client:
        client.wait_ready(120)
        with pytest.raises(InferenceError):
            client.score([("1+1", "")])


def drive_operator(api: FakeApiServer, prom) -> None:
    """Three runs, playing the Job controller: two finish learning one scrape apart (so the
    stage-duration histogram has an increase to show), the first reports 40% progress, the
    third fails. The first ConfigMap create meets a quota error, as clusters do."""
    api.inject("configmaps", "create", 403, "exceeded quota: configmaps", times=1)
    for index, name in enumerate((RUN, "second", FAILED_RUN)):
        run = make_run(name=name)
        run["metadata"]["uid"] = f"uid-{index}"
        api.create(run)
    for name in (RUN, "second", FAILED_RUN):
        servers_available(api, name)
    job_status(api, RUN, {"active": 1, "startTime": "2026-01-01T00:00:00Z"})
    api.progress[(NAMESPACE, f"{RUN}-learn")] = {"step": 40, "total": 100,
                                                  "reward_mean": 0.25, "eta_seconds": 60}
    job_status(api, FAILED_RUN, {"failed": 4, "conditions": [{
        "type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
        "message": "Job has reached the specified backoff limit"}]})
    wait_until(lambda: prom.query('dart_operator_run_progress_percent{stage="learn"}'),
               timeout=30, what="the learner's progress scraped")
    complete_learn(api, RUN)
    wait_until(lambda: prom.query('dart_operator_stage_duration_seconds_count{stage="learn"}'),
               timeout=30, what="a finished stage scraped")
    complete_learn(api, "second")


def servers_available(api: FakeApiServer, run: str) -> None:
    for server in ("generator", "scorer"):
        name = f"{run}-{server}"
        wait_until(lambda n=name: api.get("Deployment", NAMESPACE, n), timeout=90, what=name)
        api.patch_status("Deployment", NAMESPACE, name,
                         {"observedGeneration": 1, "availableReplicas": 1, "readyReplicas": 1})


def job_status(api: FakeApiServer, run: str, status: dict) -> None:
    name = f"{run}-learn"
    wait_until(lambda: api.get("Job", NAMESPACE, name), timeout=60, what=f"job {name}")
    api.patch_status("Job", NAMESPACE, name, status)


def complete_learn(api: FakeApiServer, run: str) -> None:
    job_status(api, run, {"succeeded": 1, "startTime": "2026-01-01T00:00:00Z",
                          "completionTime": "2026-01-01T00:10:00Z",
                          "conditions": [{"type": "Complete", "status": "True"}]})


def unanswered(prom, queries: list[str]) -> list[str]:
    """Queries with no series holding a number (Grafana draws nothing for NaN)."""
    def answered(query: str) -> bool:
        return any(math.isfinite(float(s["value"][1])) for s in prom.query(query))

    return [q for q in queries if not answered(q)]


def wait_for_answers(prom, queries: list[str], timeout_s: float) -> list[str]:
    deadline = time.monotonic() + timeout_s
    missing = unanswered(prom, queries)
    while missing and time.monotonic() < deadline:
        time.sleep(1)
        missing = unanswered(prom, missing)
    return missing


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_every_dashboard_query_returns_series_and_the_rules_evaluate(tmp_path, pretrained):
    queries = [grafana_query(e) for e in expressions(json.loads(DASHBOARD.read_text()))]
    spec_file = tmp_path / "dartrun.yaml"
    spec_file.write_text(yaml.safe_dump(learner_spec(pretrained)))
    api = FakeApiServer().start()
    api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    ports = {name: free_port() for name in ("generator", "scorer", "learn", "operator")}
    grpc = {role: f"127.0.0.1:{free_port()}" for role in ("generator", "scorer")}
    # Everything starts at once, on ports chosen here: the learner waits for its servers.
    processes = [
        start_server(tmp_path, "generator", pretrained.mapper, grpc, ports),
        start_server(tmp_path, "scorer", pretrained.target, grpc, ports),
        start_learner(tmp_path, spec_file, grpc["generator"], grpc["scorer"], ports["learn"]),
        start_operator(tmp_path, api, ports["operator"]),
    ]
    workloads = {name: ports[name] for name in ("generator", "scorer", "learn")}
    try:
        with running_prometheus(tmp_path, scrape_configs(workloads, ports["operator"]),
                                (RULES,)) as prom:
            drive_operator(api, prom)
            provoke_rpc_errors(grpc["generator"], grpc["scorer"])
            missing = wait_for_answers(prom, queries, timeout_s=180)
            assert not missing, (f"dashboard queries without data: {missing}\nlearner: "
                                 f"{(tmp_path / 'learn.log').read_text()[-3000:]}")
            assert_rules_evaluate(prom)
    finally:
        for process in processes:
            stop(process)
        api.stop()


def assert_rules_evaluate(prom) -> None:
    """Every shipped rule is loaded and healthy; the failed run fires DartRunFailed."""
    shipped = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"]
               for r in g["rules"]}
    wait_until(lambda: prom.query('ALERTS{alertname="DartRunFailed",alertstate="firing"}'),
               timeout=30, what="DartRunFailed firing")
    loaded = [r for g in prom.api("rules")["groups"] for r in g["rules"]]
    assert {r["name"] for r in loaded} == shipped
    assert all(r["health"] == "ok" for r in loaded), [(r["name"], r.get("lastError"))
                                                       for r in loaded]
    firing = prom.query('ALERTS{alertstate="firing"}')
    assert {a["metric"]["alertname"] for a in firing} == {"DartRunFailed"}, firing
