"""Every script under benchmarks/ runs at a tiny size and prints its figures (cleanrl-style
smoke runs): a benchmark nothing runs rots when the code under it changes. No timing is
asserted; the figures are whatever this machine gives."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "benchmarks"


def run_benchmark(*args: str, timeout: int = 600) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO / "services"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=timeout)
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


def figures_at_the_end(out: str, first_key: str) -> dict:
    """The YAML figures a script prints last (libraries may print before them)."""
    return yaml.safe_load(out[out.rindex(f"{first_key}:"):])


def json_at_the_end(out: str) -> dict:
    """The indented JSON object a script prints last."""
    start = 0 if out.startswith("{\n") else out.rindex("\n{\n") + 1
    return json.loads(out[start:])


def test_every_benchmark_script_has_a_smoke_run_here():
    scripts = {p.name for p in BENCHMARKS.glob("*.py")} | {"gpu/run.sh"}
    assert scripts == set(SMOKE_RUNS), "add a smoke run for each new script"
    # run.sh drives the GPU folder's scripts; nothing else there may go unrun.
    assert {p.name for p in (BENCHMARKS / "gpu").glob("*.py")} == {"figures.py", "small_run.py"}


@pytest.mark.slow  # each starts servers or loads models: ~1 min here
def test_serving_benchmark(tmp_path):
    out = run_benchmark("benchmarks/serving.py", "--repeats", "1", "--json",
                        str(tmp_path / "serving.json"))
    figures = json.loads((tmp_path / "serving.json").read_text())
    assert set(figures) == {"scorer", "generator"}
    assert figures["generator"]["overhead"]["grpc_per_s"] > 0
    assert "overhead" in out and "clients" in out


@pytest.mark.slow  # each starts servers or loads models: ~1 min here
def test_hostile_requests_benchmark():
    figures = json_at_the_end(run_benchmark("benchmarks/hostile_requests.py"))
    assert figures["code"] == "INVALID_ARGUMENT" and figures["server_alive"]


@pytest.mark.slow  # each starts servers or loads models: ~1 min here
def test_tiny_task_benchmark(pretrained):
    out = run_benchmark("benchmarks/tiny_task.py", "--models", str(pretrained.target.parent),
                        "--size", "4")
    assert "accuracy/in-domain" in out and "distinct_per_group_of_8" in out


@pytest.mark.slow  # each starts servers or loads models: ~1 min here
def test_publish_latency_benchmark():
    figures = json_at_the_end(run_benchmark("benchmarks/publish_latency.py", "--publishes",
                                            "2"))
    assert figures["publishes"] == 2
    assert figures["publish_to_first_sample_s_median"] >= figures["load_weights_s_median"] > 0


@pytest.mark.slow
def test_learner_step_benchmark():
    figures = figures_at_the_end(run_benchmark(
        "benchmarks/learner_step.py", "--untrained", "--steps", "2", "--batch", "2",
        "--group", "2", "--tokens", "8"), "batch")
    for key in ("sync_step_s_median", "async_step_s_median", "trl_step_s_median",
                "async_over_trl_median", "async_over_sync_wall", "trl_wall_s_per_step"):
        assert figures[key] > 0, key
    assert {name: len(curve) for name, curve in figures["reward_per_step"].items()} == {
        "sync": 2, "async": 2, "trl": 2}


@pytest.mark.slow
def test_learner_scaling_benchmark():
    figures = figures_at_the_end(run_benchmark(
        "benchmarks/learner_scaling.py", "--steps", "2", "--batch", "2", "--group", "2",
        "--tokens", "8"), "batch")
    assert figures["two_over_one"] > 0 and figures["max_reward_difference"] < 1e-6


@pytest.mark.slow
def test_gpu_script_dry_run(tmp_path):
    """The GPU script at tiny sizes on CPU: every figure measured (ceilings unknown on a
    CPU), then the small `dart run` through every stage."""
    done = subprocess.run(["bash", "benchmarks/gpu/run.sh", "--dry-run"], cwd=REPO,
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1",
                               "DART_GPU_WORK": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-4000:]
    rows = json.loads((tmp_path / "figures.json").read_text())["rows"]
    assert [row["figure"].split(" ")[0] for row in rows] == [
        "scorer", "generator", "generator", "learner", "LoRA"]
    assert all(row["measured"] > 0 and row["ceiling"] is None for row in rows)
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    assert [row["step"] for row in summary["learn"]] == [1, 2]
    assert "ceiling n/a" in done.stdout


def finished_run_folder(root: Path, pretrained, style: str) -> Path:
    """A run folder as `dart run` leaves it, as far as cross_target.py reads it: the spec,
    and an adapted dataset (here the problems in the target's own style, what a perfect
    mapper writes)."""
    from dart.data.synthetic import generate_split

    doc = yaml.safe_load((REPO / "examples/01-quickstart.yaml").read_text())
    doc["spec"]["models"]["target"]["uri"] = str(pretrained.target_for(style))
    doc["spec"]["models"]["mapper"]["init"]["uri"] = str(pretrained.mapper)
    doc["spec"]["dataset"]["synthetic"].update(targetStyle=style, evalSize=4)
    doc["spec"]["evaluate"].update(seeds=1, maxNewTokens=24)
    folder = root / style
    (folder / "synthesize").mkdir(parents=True)
    (folder / "dartrun.yaml").write_text(yaml.safe_dump(doc))
    rows = generate_split("train", size=8, style=style)
    (folder / "synthesize/adapted.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in rows))
    return folder


@pytest.mark.slow  # four tiny SFT runs and their evaluations: ~10 s here
def test_cross_target_benchmark(tmp_path, pretrained):
    other = pretrained.styles[1]
    runs = [finished_run_folder(tmp_path, pretrained, style) for style in ("native", other)]
    figures = json_at_the_end(run_benchmark("benchmarks/cross_target.py", *map(str, runs),
                                            "--epochs", "0.5", "--eval-limit", "4"))
    assert set(figures["cells"]) == {"native", other}
    for row in figures["cells"].values():
        assert set(row) == {"native", other}
        for sets in row.values():
            assert set(sets) == {"in-domain", "retention", "ood"}
            assert all(0 <= s["accuracy"] <= 1 and len(s["seeds"]) == 1 for s in sets.values())


SMOKE_RUNS = {
    "serving.py": test_serving_benchmark,
    "hostile_requests.py": test_hostile_requests_benchmark,
    "tiny_task.py": test_tiny_task_benchmark,
    "publish_latency.py": test_publish_latency_benchmark,
    "learner_step.py": test_learner_step_benchmark,
    "learner_scaling.py": test_learner_scaling_benchmark,
    "gpu/run.sh": test_gpu_script_dry_run,
    "cross_target.py": test_cross_target_benchmark,
}
