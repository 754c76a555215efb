"""The report is built from the run's own JSON: the table and verdict follow the numbers."""

import json

from dart.report.markdown import verdict, write_report


def scores(accuracy, n=200):
    return {"accuracy": accuracy, "correct": round(accuracy * n), "n": n}


def make_artifacts(root, dart_ood):
    models = {
        "base": {"in-domain": scores(0.1), "ood": scores(0.05)},
        "baseline": {"in-domain": scores(0.4), "ood": scores(0.2)},
        "dart": {"in-domain": scores(0.6), "ood": scores(dart_ood)},
    }
    (root / "evaluate").mkdir(parents=True)
    (root / "evaluate/results.json").write_text(json.dumps({"models": models, "examples": {}}))
    (root / "learn").mkdir()
    history = [{"step": s, "reward_mean": s / 10, "answer_preservation": 0.95,
                "components": {"alignment": s / 5}} for s in range(1, 6)]
    (root / "learn/history.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history))
    (root / "synthesize").mkdir()
    row = {"question": "47-25?", "solution": "47-25\n7-5=2", "provenance": {
        "outcome": "rewritten", "original_solution": "We subtract | carefully",
        "chosen_reward": {"alignment": 3.25}}}
    (root / "synthesize/adapted.jsonl").write_text(json.dumps(row) + "\n")


def test_report_has_table_verdict_figures_and_side_by_side_rewrites(tmp_path):
    make_artifacts(tmp_path, dart_ood=0.15)
    report = write_report(tmp_path)
    text = report.read_text()
    assert "| dart | 0.600 (120/200) | 0.150 (30/200) |" in text
    assert "**in-domain**: DART is ahead of plain SFT by +0.200" in text
    assert "**ood**: DART is behind plain SFT by -0.050" in text
    assert "We subtract \\| carefully" in text and "+3.25 nats/token" in text
    for figure in ("accuracy.png", "learning.png"):
        assert (report.parent / figure).stat().st_size > 1000
        assert f"({figure})" in text


def test_verdict_says_when_there_is_no_baseline():
    assert "not measured" in verdict({"dart": {"x": scores(0.5)}})[0]
