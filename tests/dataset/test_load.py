"""Dataset loading: every file format, field mapping, bad-row accounting, generators."""

from __future__ import annotations

import json

import pytest

from dart.config.spec import Dataset, EvalSet
from dart.data.load import load_demonstrations, load_eval_set
from dart.data.sources import resolve_path
from dart.errors import UserError
from dart.verify import NumericVerifier

GOOD = [{"q": f"What is {i} + {i}?", "sol": f"{i} + {i} = {2 * i}. Answer: {2 * i}",
         "ans": str(2 * i)} for i in range(1, 20)]
FIELDS = {"question": "q", "solution": "sol", "answer": "ans"}


def _dataset(path, fields=FIELDS, **extra) -> Dataset:
    return Dataset.model_validate({"file": {"path": str(path)}, "fields": fields, **extra})


def _write_jsonl(path, records, raw_lines=()):
    lines = [json.dumps(r) for r in records] + list(raw_lines)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_jsonl_with_a_field_mapping(tmp_path):
    path = _write_jsonl(tmp_path / "d.jsonl", GOOD)
    loaded = load_demonstrations(_dataset(path), NumericVerifier())
    assert len(loaded) == len(GOOD) and loaded.summary.bad == 0
    first = loaded.rows[0]
    assert first == {"id": "0", "question": "What is 1 + 1?", "solution": GOOD[0]["sol"],
                     "answer": "2"}


def test_bad_rows_are_counted_by_reason_and_skipped(tmp_path):
    bad = [{"q": "", "sol": "x", "ans": "1"}, {"sol": "x", "ans": "1"},
           {"q": "Q", "sol": "   ", "ans": "1"}, {"q": "Q", "sol": "S", "ans": "about ten"},
           {"q": "Q", "sol": "S"}]
    path = _write_jsonl(tmp_path / "d.jsonl", GOOD * 10 + bad, raw_lines=["{not json", "[1, 2]"])
    loaded = load_demonstrations(_dataset(path), NumericVerifier())
    summary = loaded.summary
    assert (summary.read, summary.kept, summary.bad) == (197, 190, 7)
    assert summary.skipped == {"missing or empty 'q'": 2, "missing or empty 'sol'": 1,
                               "unparseable answer": 1, "missing or empty 'ans'": 1,
                               "not a JSON object": 2}
    assert "kept 190 of 197 rows; skipped 7" in summary.line()
    assert all(row["answer"] != "about ten" for row in loaded)


def test_too_many_bad_rows_fail_the_load_in_one_sentence(tmp_path):
    bad = [{"q": "Q", "sol": "S", "ans": "n/a"}] * 5
    path = _write_jsonl(tmp_path / "d.jsonl", GOOD + bad)
    with pytest.raises(UserError) as error:
        load_demonstrations(_dataset(path, maxBadFraction=0.1), NumericVerifier())
    message = str(error.value)
    assert "5 of 24 rows are bad" in message and "5 unparseable answer" in message
    assert "maxBadFraction" in message and "\n" not in message


def test_answer_is_extracted_from_the_solution_when_unmapped(tmp_path):
    records = [{"question": "Q1", "solution": "so \\boxed{7}"},
               {"question": "Q2", "solution": "first 3 then Answer: 9"},
               {"question": "Q3", "solution": "no final answer here"}]
    path = _write_jsonl(tmp_path / "d.jsonl", records)
    dataset = _dataset(path, fields={"answer": None}, maxBadFraction=0.5)
    loaded = load_demonstrations(dataset, NumericVerifier())
    assert [r["answer"] for r in loaded] == ["7", "9"]
    assert loaded.summary.skipped == {"no answer in solution": 1}


def test_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = [{"q": r["q"], "sol": r["sol"], "ans": int(r["ans"])} for r in GOOD]
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "d.parquet")
    loaded = load_demonstrations(_dataset(tmp_path / "d.parquet"), NumericVerifier())
    assert [r["answer"] for r in loaded] == [r["ans"] for r in GOOD]


def test_saved_hf_dataset_and_its_splits(tmp_path):
    import datasets

    splits = datasets.DatasetDict({"train": datasets.Dataset.from_list(GOOD),
                                   "test": datasets.Dataset.from_list(GOOD[:3])})
    splits.save_to_disk(str(tmp_path / "dd"))
    dataset = Dataset.model_validate({"file": {"path": str(tmp_path / "dd"), "split": "test"},
                                      "fields": FIELDS})
    assert len(load_demonstrations(dataset, NumericVerifier())) == 3
    with pytest.raises(UserError, match="split None not found; set dataset.file.split"):
        load_demonstrations(_dataset(tmp_path / "dd"), NumericVerifier())
    datasets.Dataset.from_list(GOOD).save_to_disk(str(tmp_path / "single"))
    assert len(load_demonstrations(_dataset(tmp_path / "single"), NumericVerifier())) == 19


def test_limit_applies_after_skipping(tmp_path):
    path = _write_jsonl(tmp_path / "d.jsonl", [{"q": "Q", "sol": "S", "ans": "?"}] + GOOD)
    loaded = load_demonstrations(_dataset(path, limit=5), NumericVerifier())
    assert [r["question"] for r in loaded] == [r["q"] for r in GOOD[:5]]


def test_unusable_paths_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        load_demonstrations(_dataset(tmp_path / "missing.jsonl"), NumericVerifier())
    (tmp_path / "d.csv").write_text("q,sol,ans\n")
    with pytest.raises(UserError, match="cannot tell the data format"):
        load_demonstrations(_dataset(tmp_path / "d.csv"), NumericVerifier())


def test_pvc_and_relative_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("DART_PVC_ROOT", str(tmp_path))
    assert resolve_path("pvc://data-claim/sets/a.jsonl") == tmp_path / "data-claim/sets/a.jsonl"
    assert resolve_path("a.jsonl", base_dir=tmp_path) == tmp_path / "a.jsonl"
    assert resolve_path("/abs/a.jsonl", base_dir=tmp_path).as_posix() == "/abs/a.jsonl"


def test_eval_file_needs_no_solution(tmp_path):
    path = _write_jsonl(tmp_path / "e.jsonl", [{"q": "Q", "ans": "3"}, {"q": "Q2", "ans": "4"}])
    dataset = _dataset(tmp_path / "train.jsonl")
    held_out = EvalSet.model_validate({"name": "mine", "file": {"path": str(path)}})
    loaded = load_eval_set(held_out, dataset, NumericVerifier())
    assert [r["answer"] for r in loaded] == ["3", "4"] and loaded.rows[0]["solution"] is None


def test_synthetic_source_loads_expert_demonstrations_and_splits():
    dataset = Dataset.model_validate(
        {"synthetic": {"seed": 1, "trainSize": 50, "evalSize": 20, "replayFraction": 0.0}})
    loaded = load_demonstrations(dataset, NumericVerifier())
    assert len(loaded) == 50 and loaded.summary.bad == 0
    assert all("\\boxed" in r["solution"] and " - " in r["question"] for r in loaded)
    for split in ("in-domain", "retention", "ood"):
        rows = load_eval_set(EvalSet(name=split, split=split), dataset, NumericVerifier()).rows
        assert len(rows) == 20
    with pytest.raises(UserError, match="not a synthetic-task split"):
        load_eval_set(EvalSet(name="x", split="test"), dataset, NumericVerifier())


def test_reasoning_gym_gsm_symbolic_offline():
    dataset = Dataset.model_validate(
        {"reasoningGym": {"task": "gsm_symbolic", "size": 30, "evalSize": 10, "seed": 2}})
    verifier = NumericVerifier()
    loaded = load_demonstrations(dataset, verifier)
    assert len(loaded) == 30 and loaded.summary.bad == 0
    assert all(verifier.is_correct(r["solution"], r["answer"]) for r in loaded)
    assert loaded.rows == load_demonstrations(dataset, verifier).rows  # deterministic
    held_out = load_eval_set(EvalSet(name="test", split="in-domain"), dataset, verifier).rows
    assert len(held_out) == 10
    assert not {r["question"] for r in held_out} & {r["question"] for r in loaded}


def test_reasoning_gym_unknown_task_is_a_user_error():
    dataset = Dataset.model_validate({"reasoningGym": {"task": "no_such_task", "size": 3}})
    with pytest.raises(UserError, match="reasoning-gym has no task 'no_such_task'"):
        load_demonstrations(dataset, NumericVerifier())


def test_reasoning_gym_through_math_verify_as_in_production():
    from dart.config.spec import Verifier as VerifierSettings
    from dart.verify import make_verifier

    dataset = Dataset.model_validate({"reasoningGym": {"task": "gsm_symbolic", "size": 12}})
    with make_verifier(VerifierSettings(timeout_seconds=5.0)) as verifier:
        loaded = load_demonstrations(dataset, verifier)
        assert len(loaded) == 12 and loaded.summary.bad == 0
        verdicts = verifier.score_many([(r["solution"], r["answer"]) for r in loaded])
    assert all(verdicts)
