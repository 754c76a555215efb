"""A generator under a hostile request: memory, refusal time, health latency, and the next call.

    python benchmarks/hostile_requests.py                 # untrained tiny model in a temp dir
    python benchmarks/hostile_requests.py --memory-limit-gib 4 --json hostile.json

Starts `dart serve generator` as a subprocess (optionally under RLIMIT_AS, the stand-in for a
4 GiB pod's memory limit), then sends one Generate request of 64 prompts of 10^6 characters
(64 MB, under the 64 MiB receive limit) while a second thread checks gRPC health every 50 ms.
Reports the server's peak RSS (VmHWM) before and after, how long the refusal took, the worst
health latency during it, and whether a normal request right after is answered. Targets (issue
20): the server survives, health answers within 1 s, the next request succeeds. Before the
character bound was checked first, this request took the generator to 5.3 GB and blocked its
event loop for 26 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

PROMPTS, PROMPT_CHARS = 64, 1_000_000


def peak_rss_mib(pid: int) -> float:
    """The process's high-water resident set (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def start_server(model: Path, workdir: Path, limit_gib: float | None) -> tuple:
    ready = workdir / "generator.ready.json"

    def limit_memory() -> None:
        if limit_gib:
            size = int(limit_gib * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    process = subprocess.Popen(
        [sys.executable, "-m", "dart", "serve", "generator", "--model", str(model),
         "--port", "0", "--metrics-port", "0", "--ready-file", str(ready), "--threads", "1"],
        stdout=subprocess.DEVNULL, stderr=open(workdir / "generator.log", "w"),
        preexec_fn=limit_memory)
    deadline = time.monotonic() + 300
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start; see {workdir / 'generator.log'}")
        time.sleep(0.2)
    return process, json.loads(ready.read_text())["port"]


def health_latencies(channel, stop: threading.Event) -> list[float]:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    stub, latencies = health_pb2_grpc.HealthStub(channel), []
    while not stop.is_set():
        started = time.perf_counter()
        stub.Check(health_pb2.HealthCheckRequest(), timeout=10)
        latencies.append(time.perf_counter() - started)
        time.sleep(0.05)
    return latencies


def hostile_round(port: int) -> dict:
    import grpc

    from dart.protos_gen import inference_pb2 as pb
    from dart.protos_gen import inference_pb2_grpc as pb_grpc

    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[
        ("grpc.max_send_message_length", 256 * 2**20)])
    stub = pb_grpc.GeneratorStub(channel)
    stop, latencies = threading.Event(), []
    checker = threading.Thread(target=lambda: latencies.extend(health_latencies(channel, stop)))
    checker.start()
    time.sleep(0.2)
    request = pb.GenerateRequest(prompts=["7" * PROMPT_CHARS] * PROMPTS, n=1, max_tokens=8)
    started = time.perf_counter()
    try:
        stub.Generate(request, timeout=120)
        code, details = "OK", ""
    except grpc.RpcError as error:
        code, details = error.code().name, error.details()
    refused_s = time.perf_counter() - started
    time.sleep(0.2)
    stop.set()
    checker.join(30)
    normal = stub.Generate(pb.GenerateRequest(prompts=["Question:\n1 + 2\nSolution:\n"], n=2,
                                              max_tokens=16), timeout=60)
    channel.close()
    return {"code": code, "details": details, "refused_s": round(refused_s, 3),
            "health_checks": len(latencies), "worst_health_s": round(max(latencies), 3),
            "next_request_ok": len(normal.results[0].completions) == 2}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model folder (default: untrained tiny)")
    parser.add_argument("--memory-limit-gib", type=float, default=4.0,
                        help="RLIMIT_AS of the server (0: none)")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        model = args.model
        if model is None:
            from dart.models.tiny import build_tiny_model

            model = build_tiny_model(workdir / "target", seed=0)
        process, port = start_server(model, workdir, args.memory_limit_gib or None)
        try:
            before = peak_rss_mib(process.pid)
            result = hostile_round(port)
            result |= {"peak_rss_before_mib": round(before, 1),
                       "peak_rss_after_mib": round(peak_rss_mib(process.pid), 1),
                       "memory_limit_gib": args.memory_limit_gib,
                       "server_alive": process.poll() is None}
        finally:
            process.terminate()
            process.wait(30)
    # The latency target is a figure to read, not a pass/fail: on a loaded machine the 64 MB
    # receive alone can hold the event loop near a second. Only a dead or wrong server fails.
    result["health_within_1s"] = result["worst_health_s"] < 1
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["server_alive"] and result["next_request_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
