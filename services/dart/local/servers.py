"""Start the generator and scorer as child processes on free loopback ports.

    with local_servers(spec, workdir) as (generator_address, scorer_address):
        ...
    with local_target_generator(spec, workdir) as generator_address:   # direct-rl
        ...

Each server writes a ready file once it serves (`dart serve --ready-file`); we wait for both,
and on exit (or any error, or Ctrl-C) send SIGTERM, then SIGKILL after a grace period, so no
child outlives the command that started it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from dart.config.model_uri import TARGET_FIELD, mapper_source, model_folder, target_source
from dart.config.spec import DartRunSpec
from dart.errors import UserError

READY_TIMEOUT_S = 300.0


def _start(role: str, model: str, workdir: Path, flags: list[str]
           ) -> tuple[subprocess.Popen, Path]:
    ready = workdir / f"{role}.ready.json"
    ready.unlink(missing_ok=True)
    log = (workdir / f"{role}.log").open("w")
    # One torch thread each: two servers and the learner share the machine's cores, and
    # oversubscribed threads made the tiny models up to 100x slower (BENCHMARKS.md).
    command = [sys.executable, "-m", "dart", "serve", role, "--model", model, "--port", "0",
               "--metrics-port", "0", "--ready-file", str(ready), "--threads", "1", *flags]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               preexec_fn=_die_with_parent)
    return process, ready


def _die_with_parent() -> None:
    """Linux: SIGTERM the server if we die, even by SIGKILL, so no child outlives us."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _wait_ready(process: subprocess.Popen, ready: Path, role: str, log: Path) -> str:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not ready.exists():
        if process.poll() is not None:
            raise UserError(f"the {role} server exited with code {process.returncode} before it "
                            f"was ready: {_last_line(log)}; see {log}")
        if time.monotonic() > deadline:
            raise UserError(f"the {role} server did not become ready in {READY_TIMEOUT_S:.0f} s;"
                            f" see {log}")
        time.sleep(0.2)
    return f"127.0.0.1:{json.loads(ready.read_text())['port']}"


class ServerDied(UserError):
    """A local inference server exited while the stage was using it."""


def _died(started: list, workdir: Path) -> str:
    """One sentence for the first started server that is no longer running, or ''."""
    for process, _, role in started:
        code = process.poll()
        if code is None:
            continue
        how = (f"was killed by {_signal_name(-code)}" if code < 0
               else f"exited with code {code}")
        hint = " (SIGKILL: often the out-of-memory killer)" if code == -signal.SIGKILL else ""
        return (f"the local {role} server (pid {process.pid}) {how}{hint} while in use; "
                f"see {workdir / f'{role}.log'}, then run the command again to resume")
    return ""


def _last_line(log: Path) -> str:
    """The server's own last words: its `error: ...` line when it refused its options."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    last = next((line for line in reversed(lines) if line.strip()), "no output")
    return last.removeprefix("error: ")[:500]


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _stop(process: subprocess.Popen, grace_s: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def _serving(roles: list[tuple[str, str, list[str]]], workdir: Path
             ) -> Iterator[tuple[str, ...]]:
    """Start one server per (role, model, flags), all at once; the addresses in order."""
    workdir.mkdir(parents=True, exist_ok=True)
    processes = []
    try:
        started = []
        for role, model, flags in roles:
            process, ready = _start(role, model, workdir, flags)
            processes.append(process)
            started.append((process, ready, role))
        addresses = tuple(_wait_ready(p, r, role, workdir / f"{role}.log")
                          for p, r, role in started)
        try:
            yield addresses
        except Exception as error:
            # A server killed under us (the OOM killer, kill -9) reaches the caller as a
            # failed call (UNAVAILABLE after the client's retries); name the death instead.
            died = _died(started, workdir)
            if died:
                raise ServerDied(died) from error
            raise
    finally:
        for process in processes:
            _stop(process)


@contextlib.contextmanager
def local_servers(spec: DartRunSpec, workdir: Path) -> Iterator[tuple[str, str]]:
    """(generator address, scorer address), serving the mapper's start and the target."""
    mapper = model_folder(*mapper_source(spec))
    target = model_folder(target_source(spec), TARGET_FIELD)
    generator = ("generator", mapper, adapter_slot_flags(spec))
    with _serving([generator, ("scorer", target, [])], workdir) as addresses:
        yield addresses


def adapter_slot_flags(spec: DartRunSpec) -> list[str]:
    """The mapper's generator keeps one adapter per version a rollout in flight may use."""
    return ["--adapter-slots", str(spec.learn.max_staleness + 1)]


@contextlib.contextmanager
def local_target_generator(spec: DartRunSpec, workdir: Path) -> Iterator[str]:
    """A generator serving the target itself (the direct-rl arm samples from it)."""
    target = model_folder(target_source(spec), TARGET_FIELD)
    with _serving([("generator", target, adapter_slot_flags(spec))], workdir) as (address,):
        yield address


@contextlib.contextmanager
def given_or_local_servers(generator: str | None, scorer: str | None, spec: DartRunSpec,
                           workdir: Path) -> Iterator[tuple[str, str]]:
    """The servers named on the command line, or local ones when neither is named."""
    if generator and scorer:
        yield generator, scorer
        return
    if generator or scorer:
        raise UserError("give both --generator and --scorer, or neither to start them here")
    with local_servers(spec, workdir) as addresses:
        yield addresses
