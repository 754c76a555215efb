"""RL finds what each target prefers (issues #5 and #16): on the bundled task, the general
mapper, which writes the 8 members of the repertoire without preference, learns in a CPU run
of a few minutes to write the member its target was pre-trained in, for each shipped target,
from the same starting point, without trading the rewrites' answers for it.

What there is to learn: each target finds its own member more likely than any other
(dart-acceptance.json: target_member_margin_nats), and the members share features, so a
rewrite with two of three right is partly rewarded. Nothing else tells the mapper which
member a target likes: its pre-training dealt the members like cards, and the two shipped
targets are opposite on every feature, so a run that ends on its own target's member has
left the other's. The 16 demonstrations are fixed, so both windows average the same problems
and a rise is the policy's, not the batch's.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dart.data.synthetic.repertoire import FEATURES, TARGET_STYLES

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
STEPS = 30
WINDOW = 3
LEARNER = {"steps": STEPS, "batchSize": 16, "groupSize": 4, "temperature": 1.2,
           "learningRate": 1e-3, "updatesPerBatch": 4, "publishEvery": 1,
           "checkpointEvery": STEPS}


@pytest.fixture(scope="module", params=TARGET_STYLES)
def history(request, pretrained, tmp_path_factory) -> tuple[str, list[dict]]:
    style = request.param
    root = tmp_path_factory.mktemp(f"science-{style}")
    spec = yaml.safe_load((REPO / "examples/01-quickstart.yaml").read_text())
    spec["spec"]["models"]["target"]["uri"] = str(pretrained.target_for(style))
    spec["spec"]["models"]["mapper"]["init"]["uri"] = str(pretrained.mapper)
    spec["spec"]["dataset"]["synthetic"].update(trainSize=LEARNER["batchSize"],
                                                targetStyle=style)
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


def share(entry: dict) -> float:
    return entry["style_share"]


def test_the_mapper_learns_to_write_its_targets_member(history):
    style, entries = history
    assert [e["step"] for e in entries] == list(range(1, STEPS + 1))
    first, last = mean(entries[:WINDOW], share), mean(entries[-WINDOW:], share)
    print(f"\n{style}: share of rewrites in the target's member, first {WINDOW} steps "
          f"{first:.2f}, last {last:.2f}; per step "
          + " ".join(f"{share(e):.2f}" for e in entries))
    assert first <= 0.25  # near chance (1/8): the starting point does not know the target
    assert last >= 0.5  # measured 0.96 (native target), 0.89 (the other); the goal is 0.9
    for feature in FEATURES:  # each feature is found, not only the style as a whole
        values = [mean(window, lambda e, f=feature: e["style_features"][f])
                  for window in (entries[:WINDOW], entries[-WINDOW:])]
        assert values[1] >= values[0] + 0.15, (feature, values)


def test_the_answers_are_not_traded_for_the_style(history):
    """The answer gate holds while the target finds the rewrites it accepts likelier: the
    rewrites keep about as many answers at the end as at the start (measured on learn seeds
    0-2: 0.93-0.95 -> 0.94-0.97 on the native target, 0.92-0.95 -> 0.88-0.91 on the other; the
    issue's goal is 0.95). The gain is the passing rewrites' (it rose by 1.9-2.6 nats/token
    on each of the five seeds measured, BENCHMARKS.md): the batch mean
    counts each rejected rewrite at the clip floor, so two more rejections in the last steps
    outweigh it (a CI run, 2026-12-03: 0.94 -> 0.64 as answers kept went 0.95 -> 0.89)."""
    style, entries = history
    gain = lambda e: e["passing_alignment_mean"]  # noqa: E731
    kept = lambda e: e["answer_preservation"]  # noqa: E731
    print(f"\n{style}: alignment of the passing rewrites (nats/token) first "
          f"{mean(entries[:WINDOW], gain):.2f}, last {mean(entries[-WINDOW:], gain):.2f};"
          " answers kept per step " + " ".join(f"{kept(e):.2f}" for e in entries))
    assert mean(entries[-WINDOW:], kept) >= mean(entries[:WINDOW], kept) - 0.1
    assert mean(entries[-WINDOW:], kept) >= 0.8
    assert mean(entries[-WINDOW:], gain) > mean(entries[:WINDOW], gain) + 0.5
