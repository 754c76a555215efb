"""`dart run`: every unit of the run's plan (dart.plan), in order, in this process, each
skipped once done:

    learn -> synthesize (dart) -> each ablation's units -> direct-rl -> sft (one unit per
    arm and seed) -> evaluate -> report

The inference servers live only while units that need them run; consecutive units that
need the same servers (learn then synthesize of one arm) share them, and an ablation or the
direct-rl arm gets servers of its own (a fresh generator holds the untrained mapper, or the
target)."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from dart import interrupts
from dart.artifacts import Artifacts
from dart.config.spec import DartRunSpec
from dart.local.units import run_unit, unit_done, unit_spec
from dart.plan import Unit, plan

OnUnit = Callable[[int, int, Unit], None]
"""Told before each unit: (index from 1, number of units, the unit)."""


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def print_unit(index: int, total: int, unit: Unit) -> None:
    _log(f"\n== {index}/{total} {unit.name} ({time.strftime('%H:%M:%S')})")


def _synthesize_progress():
    started = time.monotonic()

    def report(done: int, total: int) -> None:
        rate = done / max(time.monotonic() - started, 1e-9)
        print(f"\rsynthesize: {done}/{total} demonstrations ({rate:.1f}/s)", end="",
              file=sys.stderr, flush=True)

    return report


@contextlib.contextmanager
def servers_for(spec: DartRunSpec, out: Path, unit: Unit) -> Iterator[tuple[str | None, ...]]:
    from dart.local.servers import local_servers, local_target_generator

    workdir = Artifacts(out).servers(unit.arm)
    if unit.servers == "target":
        with local_target_generator(spec, workdir) as generator:
            yield generator, None
    else:
        with local_servers(unit_spec(spec, unit), workdir) as (generator, scorer):
            yield generator, scorer


class _Servers:
    """The servers of the last served unit, kept while the next unit needs the same ones."""

    def __init__(self, spec: DartRunSpec, out: Path):
        self.spec, self.out = spec, out
        self.key, self.addresses = None, (None, None)
        self.stack = contextlib.ExitStack()

    def for_unit(self, unit: Unit) -> tuple[str | None, ...]:
        key = (unit.servers, unit.arm)
        if key == self.key:
            return self.addresses
        self.close()  # units without servers run with none alive (SFT needs the memory)
        if unit.servers is None:
            return None, None
        self.addresses = self.stack.enter_context(servers_for(self.spec, self.out, unit))
        self.key = key
        return self.addresses

    def close(self) -> None:
        self.stack.close()
        self.stack, self.key, self.addresses = contextlib.ExitStack(), None, (None, None)


def run_pipeline(spec: DartRunSpec, out: Path, on_unit: OnUnit = print_unit) -> Path:
    """Run the plan; returns the report."""
    units = plan(spec)
    servers = _Servers(spec, out)
    try:
        for index, unit in enumerate(units, 1):
            interrupts.raise_if_requested()
            on_unit(index, len(units), unit)
            if unit_done(spec, out, unit):
                _log(f"{unit.name}: already done; skipping")
                continue
            generator, scorer = servers.for_unit(unit)
            run_unit(spec, out, unit, generator, scorer, on_progress=_synthesize_progress())
            if unit.stage == "synthesize":
                print(file=sys.stderr)
    finally:
        servers.close()
    interrupts.raise_if_requested()
    return Artifacts(out).report
