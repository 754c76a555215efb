"""`dart unit NAME`: one unit of the plan, as an operator Job runs it."""

from __future__ import annotations

from pathlib import Path

from dart.artifacts import Artifacts, mark_done
from dart.cli import main

QUICKSTART = str(Path(__file__).resolve().parents[2] / "examples/01-quickstart.yaml")


def test_an_unknown_unit_is_one_line_listing_the_plans_units(tmp_path, capsys):
    assert main(["unit", "sft-nothing-0", "--config", QUICKSTART,
                 "--artifacts", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no unit 'sft-nothing-0'" in err and "sft-original-1" in err and "report" in err


def test_a_finished_unit_is_skipped(tmp_path, capsys):
    mark_done(Artifacts(tmp_path).sft("sft-original", 1).root)
    assert main(["unit", "sft-original-1", "--config", QUICKSTART,
                 "--artifacts", str(tmp_path)]) == 0
    assert "sft-original-1: already done; skipping" in capsys.readouterr().out
