"""The learner finds its target's style (issue #16): on the bundled task, the general mapper
starts with no preference among the repertoire's 8 styles, so the share of its rewrites in
the target's style starts near chance (1/8). A CPU run of a few minutes of GRPO against the
target must raise that share (last 10% of steps against the first 10%) while the rewrites
keep their answers. The target is the shipped one whose style the mapper samples least, so
the rise cannot be the mapper's own habit.

The demonstrations are fixed, so both windows average the same problems and the rise is the
policy's, not the batch's. Figures of the recorded run: BENCHMARKS.md ("RL finds the style").
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dart.models.acceptance import ACCEPTANCE
from dart.models.shipped import shipped_paths, shipped_styles

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
STEPS = 24
WINDOW = 3
LEARNER = {"steps": STEPS, "batchSize": 16, "groupSize": 4, "temperature": 1.0,
           "learningRate": 1e-3, "updatesPerBatch": 4, "publishEvery": 1,
           "checkpointEvery": STEPS}


def least_sampled_style(pretrained) -> tuple[str, float]:
    """The shipped target style the mapper writes least often, and that share."""
    figures = json.loads((pretrained.mapper / ACCEPTANCE).read_text())
    return min(((s, figures[f"mapper_share_{s}"]) for s in shipped_styles()),
               key=lambda pair: pair[1])


@pytest.fixture(scope="module")
def run(pretrained, tmp_path_factory) -> tuple[str, list[dict]]:
    style, _ = least_sampled_style(pretrained)
    root = tmp_path_factory.mktemp("science")
    spec = yaml.safe_load((REPO / "examples/01-quickstart.yaml").read_text())
    spec["spec"]["models"]["target"]["uri"] = str(shipped_paths(style).target)
    spec["spec"]["models"]["mapper"]["init"]["uri"] = str(pretrained.mapper)
    synthetic = spec["spec"]["dataset"]["synthetic"]
    synthetic.update(trainSize=LEARNER["batchSize"], targetStyle=style)
    spec["spec"]["learn"].update(LEARNER)
    config = root / "science.yaml"
    config.write_text(yaml.safe_dump(spec))
    done = subprocess.run([sys.executable, "-m", "dart", "learn", "--config", str(config),
                           "--artifacts", str(root / "run")],
                          capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = (root / "run/learn/history.jsonl").read_text().splitlines()
    return style, [json.loads(line) for line in lines]


def mean(entries: list[dict], figure) -> float:
    return sum(figure(e) for e in entries) / len(entries)


def window_means(first: list[dict], last: list[dict], read) -> str:
    return f"{mean(first, read):.2f} -> {mean(last, read):.2f}"


def test_the_mapper_starts_with_no_habit_of_that_style(pretrained):
    style, share = least_sampled_style(pretrained)
    figures = json.loads((pretrained.mapper / ACCEPTANCE).read_text())
    most = max(v for k, v in figures.items() if k.startswith("mapper_share_"))
    assert share <= 1 / 4 and share < most, f"{style} is sampled at {share:.3f}"


def test_the_share_of_the_target_style_rises_while_answers_are_kept(run):
    style, history = run
    assert [e["step"] for e in history] == list(range(1, STEPS + 1))
    first, last = history[:WINDOW], history[-WINDOW:]
    share = (mean(first, lambda e: e["style_share"]), mean(last, lambda e: e["style_share"]))
    print(f"\ntarget style {style}: share first {WINDOW} steps {share[0]:.2f}, "
          f"last {share[1]:.2f}")
    for feature in history[0]["style_features"]:
        print(f"  {feature}: "
              + window_means(first, last, lambda e, f=feature: e["style_features"][f]))
    for key in ("answer_preservation", "distinct_rewrites_per_group", "zero_variance_groups"):
        print(f"  {key}: " + window_means(first, last, lambda e, k=key: e[k]))
    print("style share per step: " + " ".join(f"{e['style_share']:.2f}" for e in history))
    assert share[0] <= 0.25
    assert share[1] >= share[0] + 0.3
    assert mean(last, lambda e: e["answer_preservation"]) >= 0.9
