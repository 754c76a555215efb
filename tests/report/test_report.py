"""The report is built from the run's own JSON: the table, the verdicts and the oracle-gap
headline follow the numbers, and the headline is recomputed here from results.json."""

import json

import pytest
from oracle_gap_check import check_oracle_gap_in_report

from dart.report.markdown import write_report
from dart.report.oracle_gap import gap_fraction, oracle_gap
from dart.report.sections import at_mapper_tokens, matched_compute, verdict


def scores(*accuracies, n=200):
    """One arm's scores on one set over its seeds, as dart.evaluate.results writes them."""
    mean = sum(accuracies) / len(accuracies)
    std = (sum((a - mean) ** 2 for a in accuracies) / (len(accuracies) - 1)) ** 0.5 \
        if len(accuracies) > 1 else 0.0
    return {"accuracy": mean, "std": std, "seeds": list(accuracies),
            "correct": round(sum(accuracies) * n), "n": n * len(accuracies)}


def costs(flops, generated=0):
    return {"wall_seconds": 1.5, "tokens_generated": generated, "tokens_trained_sft": 100,
            "tokens_trained_rl": 0, "params": 1000, "flops": flops,
            "seconds": {"learn": 0.0, "synthesize": 0.0, "sft": 1.5}}


def hand_made_results():
    models = {
        "base": {"in-domain": scores(0.1), "ood": scores(0.05)},
        "dart": {"in-domain": scores(0.6, 0.5), "ood": scores(0.15, 0.1)},
        "sft-original": {"in-domain": scores(0.2, 0.3), "ood": scores(0.2, 0.2)},
        "sft-oracle": {"in-domain": scores(0.8, 0.7), "ood": scores(0.1, 0.2)},
        "direct-rl": {"in-domain": scores(0.3), "ood": scores(0.0)},
    }
    curve = [{"step": 0, "tokens_trained": 0, "flops": 1e9,
              "accuracy": {"in-domain": 0.1, "ood": 0.05}},
             {"step": 5, "tokens_trained": 50, "flops": 4e9,
              "accuracy": {"in-domain": 0.6, "ood": 0.15}}]
    return {"models": models, "examples": {},
            "costs": {"dart": costs(4e9, 30), "sft-original": costs(6e8),
                      "sft-oracle": costs(6e8), "direct-rl": costs(2e9, 30)},
            "curves": {arm: curve for arm in ("dart", "sft-original", "direct-rl")}}


def make_artifacts(root, results):
    (root / "evaluate").mkdir(parents=True)
    (root / "evaluate/results.json").write_text(json.dumps(results))
    (root / "learn").mkdir()
    history = [{"step": s, "reward_mean": s / 10, "answer_preservation": 0.95,
                "components": {"alignment": s / 5}, "style_share": s / 5,
                "style_features": {"operator": 0.5 + s / 10, "carry": 1.0, "answer": s / 5}}
               for s in range(1, 6)]
    (root / "learn/history.jsonl").write_text("".join(json.dumps(h) + "\n" for h in history))
    (root / "synthesize").mkdir()
    row = {"question": "47-25?", "solution": "47-25\n7-5=2", "provenance": {
        "outcome": "rewritten", "original_solution": "We subtract | carefully",
        "chosen_reward": {"alignment": 3.25}}}
    (root / "synthesize/adapted.jsonl").write_text(json.dumps(row) + "\n")


def test_oracle_gap_on_a_hand_made_results_dict():
    gaps = oracle_gap(hand_made_results()["models"])
    # in-domain: seed 0 (0.6-0.2)/(0.8-0.2) = 2/3, seed 1 (0.5-0.3)/(0.7-0.3) = 1/2
    assert gaps["in-domain"]["seeds"] == pytest.approx([2 / 3, 1 / 2])
    assert gaps["in-domain"]["mean"] == pytest.approx(7 / 12)
    assert gaps["in-domain"]["std"] == pytest.approx((1 / 6) / 2 ** 0.5)
    # ood: seed 0 has the oracle behind sft-original (undefined), seed 1 is level (undefined)
    assert gaps["ood"] == {"seeds": [None, None], "defined": 0, "mean": None, "std": None}
    assert gap_fraction(0.5, 0.4, 0.4) is None
    assert oracle_gap({"dart": {}, "sft-original": {}}) is None


def test_report_states_the_oracle_gap_recomputed_from_results_json(tmp_path):
    make_artifacts(tmp_path, hand_made_results())
    text = write_report(tmp_path).read_text()
    check_oracle_gap_in_report(text, json.loads((tmp_path / "evaluate/results.json").read_text()))
    assert "- **ood**: undefined: sft-oracle is not ahead of sft-original on any seed" in text


def test_report_has_tables_verdicts_costs_figures_and_side_by_side_rewrites(tmp_path):
    make_artifacts(tmp_path, hand_made_results())
    report = write_report(tmp_path)
    text = report.read_text()
    assert "| dart | 0.550 ± 0.071 (2 seeds) | 0.125 ± 0.035 (2 seeds) |" in text
    assert "| base | 0.100 (20/200) | 0.050 (10/200) |" in text
    assert "**in-domain**: DART is ahead of plain SFT by +0.300, more than twice" in text
    assert "**ood**: DART is behind plain SFT by -0.075, more than twice" in text
    assert "DART / direct-rl = 2.00x" in text
    assert ("At matched compute (2.00e+09 FLOPs), DART's first seed was at SFT step 0: "
            "in-domain 0.100 vs 0.300, ood 0.050 vs 0.000") in text
    assert "| dart | 1.5 | 30 | 100 | 0 | 4.00e+09 |" in text and "6·P·" in text
    assert "We subtract \\| carefully" in text and "+3.25 nats/token" in text
    assert ("Share of rewrites written in the target's style: 0.20 at step 1, 1.00 at step 5 "
            "(per feature: operator 0.60 -> 1.00, carry 1.00 -> 1.00, answer 0.20 -> 1.00)"
            ) in text
    for figure in ("accuracy.png", "learning.png", "oracle_gap.png", "curves.png", "style.png"):
        assert (report.parent / figure).stat().st_size > 1000
        assert f"({figure})" in text


def test_verdicts_say_when_an_arm_is_missing():
    models = {"dart": {"x": scores(0.5)}}
    assert "not measured" in verdict(models)[0]
    assert "not measured" in matched_compute(models, {})[0]


def test_verdict_words_follow_the_seed_spread():
    from dart.report.sections import compare_to_plain_sft

    assert "score the same (0.000 vs 0.000)" in compare_to_plain_sft(scores(0, 0), scores(0, 0))
    within = compare_to_plain_sft(scores(0.30, 0.50), scores(0.30, 0.40))
    assert within.startswith("DART is within twice the seed spread") and "+0.050" in within
    assert compare_to_plain_sft(scores(0.9, 0.8), scores(0.1, 0.1)).startswith(
        "DART is ahead of plain SFT by +0.750, more than twice the seed spread")
    assert "one seed, no spread known" in compare_to_plain_sft(scores(0.2), scores(0.1))
    assert "level" not in within


def test_an_undefined_oracle_gap_says_why():
    from dart.report.sections import oracle_gap_lines

    nothing = {"dart": {"x": scores(0, 0)}, "sft-original": {"x": scores(0, 0)},
               "sft-oracle": {"x": scores(0, 0)}}
    assert "neither sft-oracle nor sft-original solved any problem" in oracle_gap_lines(
        nothing)[-1]
    behind = {**nothing, "sft-oracle": {"x": scores(0.1, 0.1)},
              "sft-original": {"x": scores(0.2, 0.2)}}
    assert "not ahead of sft-original on any seed" in oracle_gap_lines(behind)[-1]


def test_a_gap_one_seed_defines_has_no_spread_rather_than_zero():
    from dart.report.sections import oracle_gap_lines
    from dart.report.summary import terminal_summary

    # seed 0: the oracle is not ahead (undefined); seed 1: dart recovers all of the gap
    models = {"dart": {"x": scores(0.0, 0.07)}, "sft-original": {"x": scores(0.0, 0.0)},
              "sft-oracle": {"x": scores(0.0, 0.07)}}
    gap = oracle_gap(models)["x"]
    assert gap["std"] is None and gap["mean"] == pytest.approx(1.0)
    line = oracle_gap_lines(models)[-1]
    assert "recovers 1.000 (only 1 of 2 seeds define it: no spread)" in line
    assert "±" not in line
    results = {"models": {"base": {"x": scores(0.0)}, **models}, "costs": {}}
    assert "oracle gap recovered: 1.00 (only 1 of 2 seeds" in terminal_summary(results, "r.md")


def test_terminal_summary_states_the_table_and_the_verdicts(tmp_path):
    from dart.report.summary import terminal_summary

    results = hand_made_results()
    text = terminal_summary(results, tmp_path / "report.md")
    assert "dart          0.550 ± 0.071  0.125 ± 0.035" in text
    assert "base          0.100          0.050" in text
    assert "in-domain: DART is ahead of plain SFT by +0.300" in text
    assert "oracle gap recovered: 0.58 ± 0.12" in text
    assert "ood: DART is behind plain SFT by -0.075" in text
    assert "oracle gap: undefined, sft-oracle is not ahead" in text
    assert text.rstrip().endswith(f"report: {tmp_path / 'report.md'}")


def test_dart_is_read_against_grape_at_equal_or_more_mapper_tokens():
    models = {"dart": {"in-domain": scores(0.6, 0.5)},
              "no-rl": {"in-domain": scores(0.3, 0.3)},
              "grape-k2": {"in-domain": scores(0.4, 0.3)},
              "grape-k16": {"in-domain": scores(0.55, 0.5)}}
    spent = {"dart": costs(1e9, 300), "no-rl": costs(1e9, 100),
             "grape-k2": costs(1e9, 200), "grape-k16": costs(1e9, 1600)}
    lines = at_mapper_tokens(models, spent)
    rows = [line.split(" | ")[0].strip("| ") for line in lines if line.startswith("| ")][1:]
    assert rows == ["no-rl", "grape-k2", "dart", "grape-k16"]  # by mapper tokens
    [rival] = [line for line in lines if line.startswith("- ")]
    # only grape-k16 spent as many tokens as dart; 0.55 vs 0.525 is inside twice the spread
    assert "**grape-k16** (5.33x" in rival
    assert "in-domain within twice the seed spread (+0.025" in rival


def test_without_a_rival_at_dart_s_tokens_the_report_says_what_to_add():
    models = {"dart": {"in-domain": scores(0.6, 0.5)}, "grape-k2": {"in-domain": scores(0.1)}}
    lines = at_mapper_tokens(models, {"dart": costs(1e9, 300), "grape-k2": costs(1e9, 50)})
    assert "add grape-kN with a larger N" in lines[-1]
    assert at_mapper_tokens({"dart": models["dart"]}, {"dart": costs(1e9, 300)})[0].startswith(
        "Not measured")
    no_tokens = at_mapper_tokens(models, {"dart": costs(1e9, 0), "grape-k2": costs(1e9, 50)})
    assert no_tokens[0].startswith("Not measured: DART's learn and synthesis")
