"""Hostile DartRun files: every one is refused in one line (exit 2), none hangs or explodes.

A table of the known classes (alias bombs, deep nesting, huge integers, duplicate keys, files
that are not files, limits the servers would refuse mid-run) and a property-based fuzzer over
both the YAML text and the values of a valid document.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dart.cli import main
from dart.config.load import SpecError, load_dartrun
from dart.config.spec import DartRun

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = yaml.safe_load((REPO / "examples/01-quickstart.yaml").read_text())
HEAD = "apiVersion: dart.ai/v1alpha1\nkind: DartRun\n"


def refused_in_one_line(path: Path | str, capsys, expected: str) -> None:
    """`dart validate PATH` exits 2 with `error: ...` lines only, one naming the problem."""
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    lines = captured.err.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), captured.err
    assert expected in captured.err, captured.err


def alias_bomb(levels: int = 9) -> str:
    text = HEAD + 'metadata:\n  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, levels):
        text += f"  l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]\n"
    return text


HOSTILE_YAML = {
    "alias-bomb": (alias_bomb(), "YAML aliases (*l0) are not allowed"),
    "self-referencing-alias": (HEAD + "metadata: &m {name: x, self: *m}\n", "aliases"),
    "merge-key": (HEAD + "base: &b {a: 1}\nmetadata:\n  <<: *b\n", "aliases"),
    "deep-flow": ("[" * 20_000 + "]" * 20_000, "nesting is deeper than 64 levels"),
    "deep-block": ("".join("  " * i + f"k{i}:\n" for i in range(200)),
                   "nesting is deeper than 64 levels"),
    "huge-integer": (HEAD + "spec:\n  learn:\n    seed: " + "9" * 5000 + "\n",
                     "an integer of 5000 digits is too large"),
    "huge-hex-integer": (HEAD + "x: 0x" + "f" * 60 + "\n", "is too large"),
    "duplicate-key": (HEAD + "kind: DartRun\n", "duplicate key 'kind'"),
    "duplicate-nested-key": (HEAD + "metadata:\n  name: a\n  name: b\n", "duplicate key 'name'"),
    "mapping-as-key": (HEAD + "? {a: 1}\n: b\n", "a mapping key must be a plain value"),
    "tab-indent": (HEAD + "metadata:\n\tname: x\n", "invalid YAML"),
    "python-tag": (HEAD + "x: !!python/object/apply:os.system ['true']\n", "invalid YAML"),
    "utf16": (HEAD, "not a text file"),  # written as UTF-16 below
    "nul-bytes": (HEAD + "metadata: \x00\n", "invalid YAML"),
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", sorted(HOSTILE_YAML))
def test_hostile_yaml_is_refused_in_one_line(name, tmp_path, capsys):
    text, expected = HOSTILE_YAML[name]
    path = tmp_path / f"{name}.yaml"
    if name == "utf16":
        path.write_bytes(text.encode("utf-16"))
    else:
        path.write_text(text)
    refused_in_one_line(path, capsys, expected)


def test_an_oversized_spec_is_refused_unread(tmp_path, capsys):
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:  # sparse: 2 GiB on disk costs nothing
        handle.truncate(2 << 30)
    refused_in_one_line(path, capsys, "may be at most 1,048,576")


@pytest.mark.timeout(20)
@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_devices_are_refused_without_reading(path, capsys):
    refused_in_one_line(path, capsys, "is not a regular file")


@pytest.mark.timeout(20)
def test_a_fifo_is_refused_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    refused_in_one_line(fifo, capsys, "is not a regular file")


def test_an_unreadable_spec_is_one_line(tmp_path, capsys):
    path = tmp_path / "secret.yaml"
    path.write_text(HEAD)
    path.chmod(0)
    if os.access(path, os.R_OK):
        pytest.skip("running as root: every file is readable")
    refused_in_one_line(path, capsys, "permission denied")


def quickstart_with(**changes) -> dict:
    """The quickstart with dotted-path changes, e.g. {'learn.seed': -1}."""
    document = yaml.safe_load(yaml.safe_dump(QUICKSTART))
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = document["spec"]
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return document


# Limits the servers (or torch, numpy, the wire) would refuse mid-run, refused at validate.
OVER_THE_LIMITS = [
    ({"learn.groupSize": 17}, "spec.learn.groupSize"),
    ({"learn.groupSize": 256}, "spec.learn.groupSize"),
    ({"learn.maxNewTokens": 1025}, "spec.learn.maxNewTokens"),
    ({"learn.maxNewTokens": 32768}, "spec.learn.maxNewTokens"),
    ({"synthesize.samplesPerItem": 17}, "spec.synthesize.samplesPerItem"),
    ({"learn.seed": -1}, "spec.learn.seed"),
    ({"learn.seed": 2**64}, "spec.learn.seed"),
    ({"sft.seed": 2**31}, "spec.sft.seed"),
    ({"dataset.synthetic.seed": -5}, "spec.dataset.synthetic.seed"),
]


@pytest.mark.parametrize("changes,field", OVER_THE_LIMITS, ids=lambda v: str(v))
def test_values_the_servers_refuse_fail_validation(changes, field, tmp_path, capsys):
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(quickstart_with(**changes)))
    refused_in_one_line(path, capsys, field)


@pytest.fixture(scope="module")
def local_models(tmp_path_factory) -> Path:
    """Untrained tiny models (built in about a second), where the quickstart expects them."""
    from dart.models.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("run")
    build_tiny_model(root / "tiny-models" / "target", seed=0)
    return root


@pytest.mark.parametrize("changes,expected", [
    ({"learn.maxNewTokens": 1024}, "the mapper ./tiny-models/mapper (context 1024 tokens)"),
    ({"models.mapper.lora.targetModules": ["q_proj", "qkv"]},
     "spec.models.mapper.lora.targetModules: 'qkv' not in a llama model"),
    ({"sft.training": "lora", "sft.lora.targetModules": ["attn"]},
     "spec.sft.lora.targetModules: 'attn' not in a llama model"),
], ids=["context", "mapper-lora", "sft-lora"])
def test_a_spec_is_checked_against_the_local_models_it_names(
        changes, expected, local_models, monkeypatch, capsys):
    monkeypatch.chdir(local_models)
    mapper = local_models / "tiny-models" / "mapper"
    if not mapper.exists():
        mapper.symlink_to(local_models / "tiny-models" / "target")
    good = local_models / "good.yaml"
    good.write_text(yaml.safe_dump(quickstart_with()))
    assert main(["validate", str(good)]) == 0
    capsys.readouterr()
    bad = local_models / "bad.yaml"
    bad.write_text(yaml.safe_dump(quickstart_with(**changes)))
    refused_in_one_line(bad, capsys, expected)


# ---------------------------------------------------------------------- property-based fuzzing

YAML_ALPHABET = st.sampled_from(list("ab:- \n\t[]{},&*!|>'\"#%@`?0123456789.eE+~\\\x00\u00e9"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(YAML_ALPHABET, max_size=200))
def test_fuzzed_yaml_text_is_a_spec_error_or_a_dartrun(text):
    outcome = _load_text(HEAD + "metadata: {name: x}\nspec:\n" + text)
    assert isinstance(outcome, (SpecError, DartRun)), repr(outcome)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.text(max_size=8), children, max_size=4),
    max_leaves=12)
SPEC_PATHS = st.sampled_from([
    "learn.groupSize", "learn.maxNewTokens", "learn.seed", "learn.steps", "learn.temperature",
    "learn.reward.clip.low", "learn.reward.penalties.length", "synthesize.samplesPerItem",
    "synthesize.shards", "sft.seed", "sft.lora.targetModules", "dataset.synthetic.trainSize",
    "dataset.file", "evaluate.sets", "evaluate.maxNewTokens", "models.target.uri",
    "models.mapper.lora.rank", "resources.learner.memory", "queueName", "unknownField",
])


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(SPEC_PATHS, JSON_VALUES, min_size=1, max_size=3))
def test_fuzzed_spec_values_are_a_spec_error_or_a_dartrun(changes):
    text = yaml.safe_dump(quickstart_with(**changes))
    outcome = _load_text(text)
    assert isinstance(outcome, (SpecError, DartRun)), repr(outcome)
    if isinstance(outcome, SpecError):
        assert outcome.problems and all("\n" not in p for p in outcome.problems)


def _load_text(text: str):
    """load_dartrun on `text` from a scratch file: the DartRun, or the SpecError raised."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        try:
            return load_dartrun(handle.name, check_local_models=False)
        except SpecError as error:
            return error


def test_a_regular_file_check_sees_through_symlinks(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "spec.yaml"
    link.symlink_to(fifo)
    assert stat.S_ISLNK(os.lstat(link).st_mode)
    refused_in_one_line(link, capsys, "is not a regular file")
