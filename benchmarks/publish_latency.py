"""LoRA publish to first sample: how long after the learner asks does the generator sample
with the new adapter?

    python benchmarks/publish_latency.py                     # untrained tiny model, hf backend
    python benchmarks/publish_latency.py --model PATH --publishes 10 --backend vllm

Starts `dart serve generator` in a subprocess, writes `--publishes` different LoRA adapters
(r=8 on q/k/v/o, random B, so each really changes the outputs), and for each one times
LoadWeights under a new version name followed by a one-token Generate, which must report
that version. Prints the median and the worst, and the median LoadWeights alone. With the
vllm backend it needs the vllm venv (.ci/vllm-tier.sh setup) as the interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "services"))

PROMPT = "<|im_start|>user\n12+34<|im_end|>\n<|im_start|>assistant\n"


def write_adapters(model: Path, out: Path, count: int) -> list[Path]:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    folders = []
    for index in range(count):
        torch.manual_seed(index)
        config = LoraConfig(r=8, lora_alpha=16, init_lora_weights=False,
                            target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
        folder = out / f"step-{index + 1}"
        get_peft_model(AutoModelForCausalLM.from_pretrained(model), config).save_pretrained(
            folder)
        folders.append(folder)
    return folders


def start_generator(model: Path, workdir: Path, backend: str) -> tuple[subprocess.Popen, str]:
    ready = workdir / "generator.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "dart", "serve", "generator", "--model", str(model),
         "--backend", backend, "--threads", "1", "--ready-file", str(ready)],
        stdout=subprocess.DEVNULL, stderr=open(workdir / "generator.log", "w"))
    while not ready.exists():
        if process.poll() is not None:
            raise SystemExit(f"the generator exited; see {workdir / 'generator.log'}")
        time.sleep(0.1)
    return process, f"127.0.0.1:{json.loads(ready.read_text())['port']}"


def publish_rounds(address: str, adapters: list[Path]) -> list[tuple[float, float]]:
    """(LoadWeights seconds, LoadWeights + first sample seconds) per adapter."""
    from dart.serving.client import GeneratorClient

    rounds = []
    with GeneratorClient(address) as client:
        client.wait_ready()
        client.generate([PROMPT], max_tokens=1, seed=0)  # warm-up
        for folder in adapters:
            began = time.perf_counter()
            client.load_weights(str(folder.resolve()), folder.name)
            loaded = time.perf_counter()
            sample = client.generate([PROMPT], max_tokens=1, seed=0)[0][0]
            served = time.perf_counter()
            if sample.weights_version != folder.name:
                raise SystemExit(f"sampled with {sample.weights_version}, not {folder.name}")
            rounds.append((loaded - began, served - began))
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model folder (default: untrained tiny)")
    parser.add_argument("--publishes", type=int, default=8)
    parser.add_argument("--backend", choices=("hf", "vllm"), default="hf")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        model = args.model
        if model is None:
            from dart.models.tiny import build_tiny_model

            model = build_tiny_model(workdir / "target", seed=0)
        adapters = write_adapters(model, workdir / "weights", args.publishes)
        process, address = start_generator(model, workdir, args.backend)
        try:
            rounds = publish_rounds(address, adapters)
        finally:
            process.terminate()
            process.wait(60)
    to_sample = [total for _, total in rounds]
    print(json.dumps({
        "backend": args.backend, "publishes": len(rounds),
        "publish_to_first_sample_s_median": round(statistics.median(to_sample), 4),
        "publish_to_first_sample_s_worst": round(max(to_sample), 4),
        "load_weights_s_median": round(statistics.median(t for t, _ in rounds), 4),
        "load_average_1min": round(os.getloadavg()[0], 2)}, indent=2))


if __name__ == "__main__":
    main()
