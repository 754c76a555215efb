"""`dart run` executes the plan: every unit in order, told to the progress callback, done
units skipped, one set of servers per arm's consecutive served units and none for the rest.
The stage calls and the servers are replaced at their seam (the stages have their own
tests and the e2e tier runs them for real)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from dart.config.load import load_dartrun
from dart.local import pipeline
from dart.plan import plan

QUICKSTART = Path(__file__).resolve().parents[2] / "examples/01-quickstart.yaml"


def spec_with(**compare):
    spec = load_dartrun(QUICKSTART).spec
    return spec.model_copy(update={"compare": spec.compare.model_copy(update=compare)})


def test_every_unit_runs_in_plan_order_with_the_servers_it_needs(tmp_path, monkeypatch):
    spec = spec_with(arms=["sft-original", "direct-rl"], ablations=["no-rl", "no-penalties"])
    ran, started, told = [], [], []

    @contextlib.contextmanager
    def servers(spec, out, unit):
        started.append(f"{unit.servers}/{unit.arm}")
        yield f"gen-{len(started)}", None if unit.servers == "target" else f"sc-{len(started)}"

    def run_unit(spec, out, unit, generator, scorer, **_):
        ran.append((unit.name, generator, scorer))

    monkeypatch.setattr(pipeline, "servers_for", servers)
    monkeypatch.setattr(pipeline, "run_unit", run_unit)
    monkeypatch.setattr(pipeline, "unit_done", lambda spec, out, unit: unit.name == "learn")
    pipeline.run_pipeline(spec, tmp_path, on_unit=lambda i, n, u: told.append((i, n, u.name)))

    names = [u.name for u in plan(spec)]
    assert told == [(i, len(names), name) for i, name in enumerate(names, 1)]
    assert [name for name, *_ in ran] == names[1:]  # learn was done
    assert started == ["mapper/dart", "untrained/no-rl", "mapper/no-penalties",
                       "target/direct-rl"]
    by_name = {name: (gen, sc) for name, gen, sc in ran}
    assert by_name["learn-no-penalties"] == by_name["synth-no-penalties"] == ("gen-3", "sc-3")
    assert by_name["direct-rl"] == ("gen-4", None)
    assert by_name["sft-dart-0"] == by_name["evaluate"] == (None, None)
