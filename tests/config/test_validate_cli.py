"""`dart validate`: every example passes, every broken spec fails with its specific message."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dart.cli import main
from dart.config.load import SpecError, load_dartrun

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
BAD_SPECS = sorted((REPO / "tests/data/bad_specs").glob("*.yaml"))


def expected_message(path: Path) -> str:
    first = path.read_text().splitlines()[0] if path.read_text() else ""
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: <message>'"
    return first.removeprefix("# expect: ")


def test_there_are_examples_and_a_big_enough_bad_corpus():
    assert len(EXAMPLES) >= 3
    assert len(BAD_SPECS) >= 20


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_validate_and_print_the_normalised_spec(path, capsys):
    assert main(["validate", str(path)]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    original = yaml.safe_load(path.read_text())
    assert printed["metadata"]["name"] == original["metadata"]["name"]
    # Normalised means defaults are filled in: a field no example sets is present.
    assert printed["spec"]["learn"]["clipRatio"] == 0.2
    # The printed spec is itself valid and means the same thing.
    reloaded = load_dartrun(path).model_dump(mode="json", by_alias=True)
    assert printed == reloaded


@pytest.mark.parametrize("path", BAD_SPECS, ids=lambda p: p.name)
def test_broken_spec_exits_2_with_its_specific_message(path, capsys):
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert expected_message(path) in captured.err
    assert "Traceback" not in captured.err
    assert all(line.startswith("error: ") for line in captured.err.splitlines())


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    spec = yaml.safe_load((REPO / "examples/01-quickstart.yaml").read_text())
    spec["spec"]["learn"]["groupSize"] = 1
    spec["spec"]["sft"]["epochs"] = 0
    spec["spec"]["resources"] = {"learner": {"gpus": -2}}
    path = tmp_path / "three.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(SpecError) as caught:
        load_dartrun(path)
    paths = sorted(line.split(":")[0] for line in caught.value.problems)
    assert paths == ["spec.learn.groupSize", "spec.resources.learner.gpus", "spec.sft.epochs"]


def test_missing_file_and_directory_are_clear(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml: no such file or folder" in capsys.readouterr().err
    assert main(["validate", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_binary_file_is_clear(tmp_path, capsys):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"\xff\xfe\x00\x81" * 10)
    assert main(["validate", str(path)]) == 2
    assert "not a text file" in capsys.readouterr().err


def test_spec_is_frozen_after_validation():
    run = load_dartrun(EXAMPLES[0])
    with pytest.raises(Exception, match="frozen"):
        run.spec.learn.steps = 5


def test_console_script_runs_without_traceback(tmp_path):
    bad = BAD_SPECS[0]
    result = subprocess.run(
        [sys.executable, "-m", "dart", "validate", str(bad)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert expected_message(bad) in result.stderr
