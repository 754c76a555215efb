"""Broken infrastructure and command lines: a killed server, busy ports, bad flags, artifacts
folders that are files or hold garbage. One line each (exit 2), never a traceback or a hang."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
from pathlib import Path

import pytest
import yaml

from dart.cli import main
from dart.config.load import parse_dartrun
from dart.errors import UserError

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples/01-quickstart.yaml"


@pytest.fixture(scope="module")
def tiny_target(tmp_path_factory) -> Path:
    from dart.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "target", seed=0)


def one_error_line(capsys, expected: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and expected in lines[0], err
    return lines[0]


@pytest.mark.parametrize("flags,expected", [
    (["--port", "70000"], "--port 70000 is not a TCP port"),
    (["--port", "-1"], "--port -1 is not a TCP port"),
    (["--metrics-port", "65536"], "--metrics-port 65536 is not a TCP port"),
    (["--threads", "-2"], "--threads -2 must be 0"),
    (["--max-batch-rows", "0"], "--max-batch-rows 0 must be at least 1"),
    (["--max-n", "0"], "--max-n 0 must be at least 1"),
    (["--adapter-slots", "0"], "--adapter-slots 0 must be at least 1"),
    (["--max-wait-ms", "nan"], "--max-wait-ms nan must be a number of at least 0"),
    (["--drain-seconds", "-1"], "--drain-seconds -1.0 must be a number of at least 0"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_serve_refuses_bad_flags_before_loading(flags, expected, tiny_target, capsys):
    assert main(["serve", "scorer", "--model", str(tiny_target), *flags]) == 2
    one_error_line(capsys, expected)


@pytest.fixture
def busy_port():
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", ["busy-grpc-port", "busy-metrics-port", "bad-host"])
def test_serve_reports_ports_it_cannot_bind(case, busy_port, tiny_target, capsys):
    flags = {"busy-grpc-port": ["--port", str(busy_port)],
             "busy-metrics-port": ["--metrics-port", str(busy_port)],
             "bad-host": ["--host", "no-such-host.invalid"]}[case]
    assert main(["serve", "scorer", "--model", str(tiny_target), *flags]) == 2
    one_error_line(capsys, "cannot serve")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("damage", ["truncated", "no-tensors", "more-layers", "garbage-config"])
def test_serve_reports_a_model_it_cannot_load(damage, tiny_target, tmp_path, capsys):
    model = tmp_path / damage
    shutil.copytree(tiny_target, model)
    weights = model / "model.safetensors"
    if damage == "truncated":
        weights.write_bytes(weights.read_bytes()[:1000])
    elif damage == "no-tensors":
        import torch
        from safetensors.torch import save_file

        save_file({"other": torch.zeros(1)}, weights)
    elif damage == "more-layers":
        config = json.loads((model / "config.json").read_text())
        config["num_hidden_layers"] += 1
        (model / "config.json").write_text(json.dumps(config))
    else:
        (model / "config.json").write_text("{not json")
    assert main(["serve", "generator", "--model", str(model)]) == 2
    one_error_line(capsys, f"cannot load the generator model from {model}")


def test_run_refuses_an_out_that_is_a_file(tmp_path, capsys):
    out = tmp_path / "out"
    out.write_text("I am a file")
    assert main(["run", str(QUICKSTART), "--out", str(out)]) == 2
    one_error_line(capsys, f"--out {out} is a file")
    assert out.read_text() == "I am a file"


@pytest.mark.parametrize("pinned", ["", "[1, 2", "- a list\n", "spec: 3\n", "\x00\x01",
                                    "a: &x [*x]\n"],
                         ids=["empty", "torn", "list", "spec-not-mapping", "binary", "alias"])
def test_run_refuses_a_garbage_pinned_spec_in_one_line(pinned, tmp_path, capsys):
    (tmp_path / "dartrun.yaml").write_text(pinned)
    assert main(["run", str(QUICKSTART), "--out", str(tmp_path)]) == 2
    one_error_line(capsys, "dartrun.yaml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dartrun.yaml"]


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(UserError):
        main(["--debug", "validate", str(tmp_path / "missing.yaml")])


@pytest.mark.timeout(180)
def test_a_local_server_killed_by_sigkill_is_named(tiny_target, tmp_path):
    from dart.local.servers import ServerDied, local_target_generator
    from dart.serving.client import GeneratorClient, RetryPolicy

    document = yaml.safe_load(QUICKSTART.read_text())
    document["spec"]["models"] = {"target": {"uri": str(tiny_target)}}
    spec = parse_dartrun(document).spec
    workdir = tmp_path / "servers"
    with pytest.raises(ServerDied) as caught:
        with local_target_generator(spec, workdir) as address:
            pid = json.loads((workdir / "generator.ready.json").read_text())["pid"]
            os.kill(pid, signal.SIGKILL)
            retry = RetryPolicy(attempts=3, initial_backoff_s=0.1)
            with GeneratorClient(address, timeout_s=20, retry=retry) as client:
                client.generate(["Question:\n1 + 1\nSolution:\n"], max_tokens=4)
    message = str(caught.value)
    assert f"the local generator server (pid {pid}) was killed by SIGKILL" in message
    assert "out-of-memory" in message and str(workdir / "generator.log") in message


@pytest.mark.parametrize("failure,expected", [
    (lambda: __import__("dart.serving.errors", fromlist=["InferenceError"]).InferenceError(
        "UNAVAILABLE", "no server answered within 60.0 s", method="connect",
        target="10.0.0.9:50051"),
     "connect on 10.0.0.9:50051 failed with UNAVAILABLE: no server answered within 60.0 s"),
    (lambda: OSError(28, "No space left on device", "/artifacts/synthesize/shard-0.jsonl"),
     "/artifacts/synthesize/shard-0.jsonl: No space left on device"),
], ids=["unreachable-server", "full-disk"])
def test_infrastructure_failures_are_one_line_exit_1(failure, expected, monkeypatch, capsys):
    """What a stage raises when a server is gone or the disk is full reaches the user as one
    line naming the server or the file; --debug gives the traceback instead."""
    import dart.cli.validate

    def fail(path):
        raise failure()

    monkeypatch.setattr(dart.cli.validate, "load_dartrun", fail)
    assert main(["validate", str(QUICKSTART)]) == 1
    line = one_error_line(capsys, expected)
    assert line.endswith("(--debug shows the traceback)")
    with pytest.raises((OSError, RuntimeError)):
        main(["--debug", "validate", str(QUICKSTART)])


def test_a_lora_target_peft_cannot_find_is_one_sentence(tiny_target):
    """For models dart validate cannot read (hf://, pvc://), peft's refusal is still the user's."""
    from dart.config.model_uri import ModelSource
    from dart.config.spec import MapperModel
    from dart.learn.policy import _load_model

    mapper = MapperModel.model_validate({"training": "lora",
                                         "lora": {"targetModules": ["nope_proj"]}})
    with pytest.raises(UserError, match=r"^spec.models.mapper.lora.targetModules: .*nope_proj"):
        _load_model(ModelSource(str(tiny_target)), mapper)
