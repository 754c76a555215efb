"""Inference-service throughput: gRPC against in-process, one client against eight.

    python benchmarks/serving.py                      # tiny target model built in a temp dir
    python benchmarks/serving.py --model PATH --repeats 7 --json serving.json

Everything runs in one invocation on one machine, each measurement repeated and reported as a
median (these shared machines vary by +-50% between identical runs):

- gRPC overhead at batch 32: the same model and code called in-process (tokenize, forward,
  decode) against a `dart serve` subprocess called through the Python client. Target: <= 10%.
- dynamic batching: 8 concurrent clients sending batches of 4 against 1 client sending the
  same batches one after another. Target: concurrent >= 1.5x serial throughput.

Workload: the bundled synthetic task (expert-style solutions, what the scorer rates while
the mapper learns), 64 new tokens per generated sample. Scorer throughput is in pairs/s,
generator throughput in generated tokens/s. Torch runs on one thread in both the benchmark
and the server (OMP_NUM_THREADS=1 unless set): on shared 2-core machines two OpenMP threads
made a 1M-parameter model up to 100x slower, which would measure the neighbours, not us.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch loads, inherited by servers

PROMPT = "<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"
GEN_TOKENS = 64
TASK_ITEMS = 512


@cache
def task_items() -> list[dict]:
    from dart.data.synthetic import generate_split

    return generate_split("train", seed=0, size=TASK_ITEMS, style="expert")


def score_pairs(count: int, offset: int = 0) -> list[tuple[str, str]]:
    items = task_items()
    return [(items[(offset + i) % TASK_ITEMS]["question"],
             items[(offset + i) % TASK_ITEMS]["solution"]) for i in range(count)]


def prompts(count: int, offset: int = 0) -> list[str]:
    items = task_items()
    return [PROMPT.format(question=items[(offset + i) % TASK_ITEMS]["question"])
            for i in range(count)]


def rate(work: Callable[[], int]) -> float:
    """Units/s of one call of `work`, which returns the units it produced."""
    started = time.perf_counter()
    units = work()
    return units / (time.perf_counter() - started)


def alternating_medians(works: dict[str, Callable[[], int]], repeats: int) -> dict[str, float]:
    """Median rate of each work, run in turn so that machine-load drift hits all alike."""
    for work in works.values():
        work()  # warm-up: first-call allocations, connection set-up
    rates: dict[str, list[float]] = {name: [] for name in works}
    for _ in range(repeats):
        for name, work in works.items():
            rates[name].append(rate(work))
    return {name: statistics.median(values) for name, values in rates.items()}


class InProcess:
    """The server's own code path without gRPC: tokenize, one forward batch, decode.

    Forward passes run on a worker thread, as in the server: here that measured ~15% faster
    than the main thread for the same call, which would otherwise read as negative overhead.
    """

    def __init__(self, model: Path):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.model = AutoModelForCausalLM.from_pretrained(model, dtype="float32").eval()
        self.worker = ThreadPoolExecutor(1)

    def score(self, pairs: list[tuple[str, str]]) -> list[list[float]]:
        return self.worker.submit(self._score, pairs).result()

    def generate(self, texts: list[str]) -> int:
        return self.worker.submit(self._generate, texts).result()

    def _score(self, pairs: list[tuple[str, str]]) -> list[list[float]]:
        from dart.serving.backends.hf_sampling import score_rows
        from dart.serving.chat import chat_score_tokens
        from dart.serving.requests import ScoreRow

        rows = [ScoreRow(tuple(ids), start) for ids, start in
                (chat_score_tokens(self.tokenizer, p, c) for p, c in pairs)]
        return score_rows(self.model, rows, pad_id=self.tokenizer.pad_token_id)

    def _generate(self, texts: list[str]) -> int:
        from dart.serving.backends.hf_sampling import sample_rows
        from dart.serving.requests import SampleRow

        encoded = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
        rows = [SampleRow(tuple(ids), 1.0, 1.0, GEN_TOKENS, seed) for seed, ids in
                enumerate(encoded)]
        samples = sample_rows(self.model, rows, eos_ids={self.tokenizer.eos_token_id},
                              pad_id=self.tokenizer.pad_token_id)
        self.tokenizer.batch_decode([s.token_ids for s in samples])
        return sum(len(s.token_ids) for s in samples)


class ServedModel:
    """`dart serve ROLE` in a subprocess, as in production: client and server share no GIL."""

    def __init__(self, role: str, model: Path, workdir: Path):
        ready = workdir / f"{role}.json"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dart", "serve", role, "--model", str(model), "--backend",
             "hf", "--ready-file", str(ready)], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        while not ready.exists():
            if self.process.poll() is not None:
                raise SystemExit(f"dart serve {role} exited with {self.process.returncode}")
            time.sleep(0.1)
        self.target = f"127.0.0.1:{json.loads(ready.read_text())['port']}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)


def generated_tokens(groups) -> int:
    return sum(len(c.token_ids) for group in groups for c in group)


def overhead(role: str, inproc: InProcess, served: ServedModel, repeats: int) -> dict:
    """Throughput at batch 32, in-process and over gRPC, one run of each in turn."""
    from dart.serving.client import GeneratorClient, ScorerClient

    if role == "scorer":
        client, batch = ScorerClient(served.target), score_pairs(32)
        local = lambda: len(inproc.score(batch))  # noqa: E731
        local_4 = lambda: len(inproc.score(batch[:4]))  # noqa: E731
        remote = lambda: len(client.score(batch))  # noqa: E731
    else:
        client, batch = GeneratorClient(served.target), prompts(32)
        local = lambda: inproc.generate(batch)  # noqa: E731
        local_4 = lambda: inproc.generate(batch[:4])  # noqa: E731
        remote = lambda: generated_tokens(  # noqa: E731
            client.generate(batch, max_tokens=GEN_TOKENS, seed=0))
    medians = alternating_medians({"local": local, "remote": remote, "local_4": local_4},
                                  repeats)
    client.close()
    # In-process batch 32 over batch 4: the most that batching 8 x 4 rows can ever give.
    return {"in_process_per_s": medians["local"], "grpc_per_s": medians["remote"],
            "grpc_overhead": medians["local"] / medians["remote"] - 1,
            "in_process_batch4_per_s": medians["local_4"],
            "batching_ceiling": medians["local"] / medians["local_4"]}


def concurrency(role: str, served: ServedModel, repeats: int, clients: int = 8,
                batch: int = 4, requests_each: int = 4) -> dict:
    """The same total work from one client serially and from `clients` threads at once."""
    from dart.serving.client import GeneratorClient, ScorerClient

    make = ScorerClient if role == "scorer" else GeneratorClient
    pool = [make(served.target) for _ in range(clients)]

    def one_request(client, index: int) -> int:
        if role == "scorer":
            return len(client.score(score_pairs(batch, offset=index)))
        return generated_tokens(client.generate(prompts(batch, offset=index),
                                                max_tokens=GEN_TOKENS, seed=index))

    def serial() -> int:
        return sum(one_request(pool[0], i) for i in range(clients * requests_each))

    def concurrent() -> int:
        return run_threads([lambda c=c, k=k: sum(one_request(c, k * 100 + i)
                                                 for i in range(requests_each))
                            for k, c in enumerate(pool)])

    medians = alternating_medians({"serial": serial, "concurrent": concurrent}, repeats)
    for client in pool:
        client.close()
    return {"serial_per_s": medians["serial"], "concurrent_per_s": medians["concurrent"],
            "speedup": medians["concurrent"] / medians["serial"]}


def run_threads(jobs: list[Callable[[], int]]) -> int:
    results = [0] * len(jobs)
    threads = [threading.Thread(target=lambda i=i, job=job: results.__setitem__(i, job()))
               for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(results)


def report(results: dict) -> None:
    unit = {"scorer": "pairs/s", "generator": "tokens/s"}
    for role, r in results.items():
        o, c = r["overhead"], r["concurrency"]
        print(f"{role:9}  batch 32: in-process {o['in_process_per_s']:8.1f} {unit[role]}, "
              f"gRPC {o['grpc_per_s']:8.1f}  -> overhead {100 * o['grpc_overhead']:+.1f}% "
              f"(target <= 10%)")
        print(f"{'':9}  batch 4: 1 client {c['serial_per_s']:8.1f} {unit[role]}, 8 clients "
              f"{c['concurrent_per_s']:8.1f}  -> {c['speedup']:.2f}x (target >= 1.5x; "
              f"in-process batch 32 vs 4: {o['batching_ceiling']:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model folder; default: a tiny target")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--roles", nargs="+", default=["scorer", "generator"])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        model = args.model or build_tiny_target(Path(workdir))
        inproc, results = InProcess(model), {}
        for role in args.roles:
            served = ServedModel(role, model, Path(workdir))
            try:
                results[role] = {"overhead": overhead(role, inproc, served, args.repeats),
                                 "concurrency": concurrency(role, served, args.repeats)}
            finally:
                served.stop()
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def build_tiny_target(workdir: Path) -> Path:
    from dart.models.tiny import build_tiny_model

    return build_tiny_model(workdir / "target", seed=0)


if __name__ == "__main__":
    main()
