"""The oracle-gap check shared by the report test and the end-to-end test: recompute the
headline from results.json, independently of dart.report, and compare it with the report."""

import re

import pytest


def check_oracle_gap_in_report(text: str, results: dict) -> None:
    """Recompute the headline from results.json, independently of dart.report, and compare
    with every figure the report states."""
    models = results["models"]
    stated = dict(re.findall(r"- \*\*(\S+)\*\*: DART recovers (-?[\d.]+)[ (]", text))
    for name in models["dart"]:
        per_seed = []
        for d, o, u in zip(*(models[a][name]["seeds"] for a in ("dart", "sft-original",
                                                                "sft-oracle")), strict=True):
            per_seed.append((d - o) / (u - o) if u > o else None)
        defined = [g for g in per_seed if g is not None]
        if not defined:
            assert name not in stated and f"- **{name}**: undefined" in text
            continue
        assert float(stated[name]) == pytest.approx(sum(defined) / len(defined), abs=5e-4)
        seeds = ", ".join("undefined" if g is None else f"{g:.3f}" for g in per_seed)
        assert f"(per seed: {seeds};" in text
