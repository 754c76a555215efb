"""Demonstrations from an S3-compatible store (a real moto server on loopback) and from a hub
dataset repository (huggingface_hub's cache layout, offline): real bytes through the same
code path the stages use, and one clear error naming the field for each bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from s3_server import s3  # noqa: F401 - the fixture

from dart.config.spec import Dataset
from dart.data.load import load_demonstrations
from dart.errors import UserError
from dart.verify import NumericVerifier

ROWS = [{"problem": f"What is {i} + {i}?", "worked": f"{i} + {i} = {2 * i}. Answer: {2 * i}",
         "final": str(2 * i)} for i in range(1, 25)]
FIELDS = {"question": "problem", "solution": "worked", "answer": "final"}


def jsonl_bytes(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def parquet_bytes(rows: list[dict]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), sink)
    return sink.getvalue()


def load(path: str, fields=FIELDS, **file):
    dataset = Dataset.model_validate({"file": {"path": path, **file}, "fields": fields})
    return load_demonstrations(dataset, NumericVerifier())


# ----------------------------------------------------------------------------- s3://


@pytest.mark.parametrize(("key", "body"), [("demos.jsonl", jsonl_bytes(ROWS)),
                                            ("nested/demos.parquet", parquet_bytes(ROWS))])
def test_demonstrations_stream_from_s3(s3, key, body):  # noqa: F811
    _, client = s3
    client.create_bucket(Bucket="dart-data")
    client.put_object(Bucket="dart-data", Key=key, Body=body)
    loaded = load(f"s3://dart-data/{key}")
    assert len(loaded) == len(ROWS) and loaded.summary.bad == 0
    assert loaded.rows[3]["question"] == "What is 4 + 4?" and loaded.rows[3]["answer"] == "8"
    assert f"s3://dart-data/{key}" in loaded.summary.line()


@pytest.mark.parametrize(("path", "words"), [
    ("s3://no-such-bucket/demos.jsonl", "does not exist"),
    ("s3://dart-data/missing.jsonl", "does not exist"),
    ("s3://dart-data/demos.csv", "cannot tell the data format"),
])
def test_a_missing_bucket_key_or_format_is_one_error_naming_the_field(s3, path,  # noqa: F811
                                                                      words):
    _, client = s3
    client.create_bucket(Bucket="dart-data")
    client.put_object(Bucket="dart-data", Key="demos.csv", Body=b"a,b\n")
    with pytest.raises(UserError) as error:
        load(path)
    message = str(error.value)
    assert message.startswith("dataset.file.path: ") and words in message, message
    assert path in message and "\n" not in message


def test_no_credentials_is_one_error_with_the_fix(s3, monkeypatch):  # noqa: F811
    _, client = s3
    client.create_bucket(Bucket="dart-data")
    client.put_object(Bucket="dart-data", Key="demos.jsonl", Body=jsonl_bytes(ROWS))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(UserError) as error:
        load("s3://dart-data/demos.jsonl")
    assert "no credentials" in str(error.value) and "AWS_ACCESS_KEY_ID" in str(error.value)


# ----------------------------------------------------------------------------- hf://datasets


COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """A hub cache holding ORG/NAME at one commit (branch main points at it), as
    huggingface_hub lays it out after a download: train and test splits as JSONL files."""
    repo = tmp_path / "hub" / "datasets--dart-org--demos"
    snapshot = repo / "snapshots" / COMMIT / "data"
    snapshot.mkdir(parents=True)
    (snapshot / "train.jsonl").write_bytes(jsonl_bytes(ROWS))
    (snapshot / "test.jsonl").write_bytes(jsonl_bytes(ROWS[:5]))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "datasets-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return tmp_path / "hub"


@pytest.mark.parametrize("revision", ["main", COMMIT])
def test_a_hub_dataset_split_at_a_revision_with_mapped_columns(hub_cache, revision):
    loaded = load(f"hf://datasets/dart-org/demos@{revision}", split="train")
    assert len(loaded) == len(ROWS) and loaded.rows[0]["solution"] == ROWS[0]["worked"]
    assert len(load(f"hf://datasets/dart-org/demos@{revision}", split="test")) == 5


@pytest.mark.parametrize(("path", "file", "fields", "words"), [
    ("hf://datasets/dart-org/demos@no-such-branch", {"split": "train"}, FIELDS,
     "dataset.file.path: "),
    ("hf://datasets/dart-org/other@main", {"split": "train"}, FIELDS, "dataset.file.path: "),
    ("hf://datasets/dart-org/demos@main", {"split": "validation"}, FIELDS,
     "dataset.file.split: split 'validation' is not in"),
    ("hf://datasets/dart-org/demos@main", {}, FIELDS,
     "dataset.file.split: hf://datasets/dart-org/demos@main has the splits"),
    ("hf://datasets/dart-org/demos@main", {"split": "train"}, {**FIELDS, "solution": "sol"},
     "dataset.fields: column 'sol' is not in"),
])
def test_bad_hub_input_is_one_error_naming_the_field(hub_cache, path, file, fields, words):
    with pytest.raises(UserError) as error:
        load(path, fields, **file)
    assert words in str(error.value) and "\n" not in str(error.value), str(error.value)


# ----------------------------------------------------------------------------- a stage


def sft_spec(paths, data_path: str) -> dict:
    return {"apiVersion": "dart.ai/v1alpha1", "kind": "DartRun", "metadata": {"name": "s3"},
            "spec": {"models": {"target": {"uri": str(paths.target)}},
                     "dataset": {"file": {"path": data_path}, "fields": FIELDS},
                     "verifier": {"type": "numeric"},
                     "evaluate": {"sets": [{"name": "held", "file": {
                         "path": data_path.replace("demos", "held")}}]},
                     "sft": {"epochs": 1, "batchSize": 8, "maxSeqLength": 128}}}


def run_unit(tmp_path, spec: dict, unit: str, env: dict) -> subprocess.CompletedProcess:
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = tmp_path / "dartrun.yaml"
    config.write_text(yaml.safe_dump(spec))
    command = [sys.executable, "-m", "dart", "unit", unit, "--config", str(config),
               "--artifacts", str(tmp_path / "artifacts")]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.slow
def test_an_sft_stage_trains_on_demonstrations_in_s3_and_refuses_a_missing_bucket(
        s3, tmp_path, pretrained, monkeypatch):  # noqa: F811
    import os

    _, client = s3
    client.create_bucket(Bucket="dart-data")
    client.put_object(Bucket="dart-data", Key="demos.jsonl", Body=jsonl_bytes(ROWS))
    client.put_object(Bucket="dart-data", Key="held.jsonl", Body=jsonl_bytes(ROWS[:4]))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    missing = run_unit(tmp_path / "missing", sft_spec(pretrained, "s3://nowhere/demos.jsonl"),
                       "sft-original-0", env)
    assert missing.returncode == 2, missing.stderr
    assert missing.stderr.strip().splitlines()[-1].startswith("error: dataset.file.path: ")
    assert not (tmp_path / "missing" / "artifacts" / "sft").exists()  # nothing half-written
    done = run_unit(tmp_path / "ok", sft_spec(pretrained, "s3://dart-data/demos.jsonl"),
                    "sft-original-0", env)
    assert done.returncode == 0, done.stdout + done.stderr
    model = tmp_path / "ok" / "artifacts" / "sft" / "sft-original" / "seed-0" / "model"
    assert (model / "model.safetensors").is_file()
    card = (model / "README.md").read_text()  # the model card: base, arm, data, seed
    assert f"base_model: {pretrained.target}" in card and "# " in card
    assert "(sft-original, seed 0)" in card and "s3://dart-data/demos.jsonl" in card
    assert "rows: 24" in card


def test_the_operators_fetch_step_puts_a_hub_dataset_where_the_loader_reads_it(hub_cache):
    """The init container's script (dart_operator.pods), offline against the same cache: it
    resolves the dataset's revision to the snapshot the workload then loads."""
    import os

    from dart_operator.pods import FETCH_SCRIPT

    env = {**os.environ, "HF_HUB_CACHE": str(hub_cache), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", FETCH_SCRIPT, "datasets/dart-org/demos@main"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(str(hub_cache / "datasets--dart-org--demos" /
                                            "snapshots" / COMMIT))
