"""A real Prometheus (Debian's `prometheus` package) on loopback, and its `promtool`.

    with running_prometheus(workdir, scrape_configs, rule_files) as prom:
        prom.query('up')                         # the HTTP API's result list

The binaries are required, never skipped: .ci/run installs them (apt-get install prometheus).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from test_progress_sidecar import free_port

INSTALL_HINT = "install Prometheus 2.x: apt-get install prometheus (.ci/run does)"


def binary(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/local/bin")
    if path is None:
        pytest.fail(f"{name} is not installed; {INSTALL_HINT}", pytrace=False)
    return path


class Prometheus:
    def __init__(self, url: str):
        self.url = url

    def api(self, path: str, **params: str):
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=10) as reply:
            body = json.load(reply)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict]:
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", (expr, data["resultType"])
        return data["result"]


@contextlib.contextmanager
def running_prometheus(workdir: Path, scrape_configs: list[dict],
                       rule_files: tuple[Path, ...] = ()) -> Iterator[Prometheus]:
    config = {"global": {"scrape_interval": "1s", "scrape_timeout": "900ms",
                         "evaluation_interval": "1s"},
              "rule_files": [str(f) for f in rule_files], "scrape_configs": scrape_configs}
    config_file = workdir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    port = free_port()
    log = (workdir / "prometheus.log").open("w")
    process = subprocess.Popen(
        [binary("prometheus"), f"--config.file={config_file}",
         f"--storage.tsdb.path={workdir / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}",
         "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", process, workdir / "prometheus.log")
        yield Prometheus(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(20)


def _wait_ready(url: str, process: subprocess.Popen, log: Path, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"prometheus exited: {log.read_text()[-2000:]}"
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as reply:
                if reply.status == 200:
                    return
        time.sleep(0.2)
    raise AssertionError(f"prometheus not ready in {timeout_s} s: {log.read_text()[-2000:]}")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary("promtool"), *args], capture_output=True, text=True,
                          timeout=60)
