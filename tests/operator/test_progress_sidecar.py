"""Learner progress: the sidecar serves exactly progress.json, the operator reads it, and an
unreachable or silent learner never stalls a reconcile."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import pytest
from aiohttp import web

from dart_operator.progress import SIDECAR_SCRIPT, stage_progress
from dart_operator.reconcile import fetch_progress

RAW = {"step": 30, "total": 120, "reward_mean": 0.4, "answer_preservation": 0.95,
       "eta_seconds": 612.7, "lr": 1e-4}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sidecar(tmp_path):
    """The sidecar script exactly as the learner pod runs it, on a free port."""
    progress_file = tmp_path / "learn" / "progress.json"
    port = free_port()
    env = {"DART_PROGRESS_FILE": str(progress_file), "DART_PROGRESS_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-c", SIDECAR_SCRIPT], env=env)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield progress_file, f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(5)


def test_stage_progress_maps_the_learner_file_to_the_status_fields():
    assert stage_progress(RAW) == {"step": 30, "total": 120, "percent": 25, "etaSeconds": 612,
                                   "rewardMean": 0.4, "answerPreservation": 0.95}
    assert stage_progress({"step": 0, "total": 0}) == {"step": 0, "total": 0}


@pytest.mark.asyncio
async def test_the_sidecar_serves_progress_and_nothing_else(sidecar):
    progress_file, url = sidecar
    assert await fetch_progress(f"{url}/progress.json", 5) is None  # not written yet
    progress_file.parent.mkdir(parents=True)
    progress_file.write_text(json.dumps(RAW))
    (progress_file.parent / "checkpoint.pt").write_text("weights")
    assert (await fetch_progress(f"{url}/progress.json", 5))["percent"] == 25
    assert await fetch_progress(f"{url}/checkpoint.pt", 5) is None


@pytest.mark.asyncio
async def test_an_unreachable_learner_gives_no_progress():
    assert await fetch_progress(f"http://127.0.0.1:{free_port()}/progress.json", 1) is None


@pytest.mark.asyncio
@pytest.mark.looptime
async def test_a_silent_learner_times_out_without_real_waiting():
    async def silent(request):
        await asyncio.sleep(3600)
        return web.json_response(RAW)

    app = web.Application()
    app.router.add_get("/progress.json", silent)
    runner = web.AppRunner(app, shutdown_timeout=0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    started, wall = loop.time(), time.monotonic()
    try:
        assert await fetch_progress(f"http://127.0.0.1:{port}/progress.json", 3.0) is None
        assert loop.time() - started == pytest.approx(3.0, abs=0.5)
        assert time.monotonic() - wall < 2.0
    finally:
        await runner.cleanup()
