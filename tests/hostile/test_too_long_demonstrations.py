"""Over-long demonstrations are dropped (default) or truncated at load, counted and reported,
with the mapper's real tokenizer, so no step of the learner meets a refused prompt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dart.budget import mapper_budget
from dart.config.load import parse_dartrun
from dart.data.length import TOO_LONG
from dart.data.load import load_demonstrations
from dart.errors import UserError
from dart.verify import NumericVerifier

REPO = Path(__file__).resolve().parents[2]

SHORT = [{"question": f"What is {i} + {i}?", "solution": f"{i} + {i} = {2 * i}. Answer: {2 * i}",
          "answer": str(2 * i)} for i in range(1, 40)]
LONG = {"question": "What is 1 + 1?", "solution": "1 + 1 = 2. " * 1500 + "Answer: 2",
        "answer": "2"}  # ~15 KB: the solution that killed learning at its step


@pytest.fixture(scope="module")
def tiny_target(tmp_path_factory):
    from dart.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "target", seed=0)


def spec_for(model, data, **dataset):
    document = yaml.safe_load(REPO.joinpath("examples/01-quickstart.yaml").read_text())
    document["spec"]["models"] = {"target": {"uri": str(model)}}
    document["spec"]["dataset"] = {"file": {"path": str(data)}, **dataset}
    document["spec"].pop("compare", None)
    document["spec"]["evaluate"] = {"sets": [{"name": "held-out", "file": {"path": str(data)}}]}
    return parse_dartrun(document).spec


def write_rows(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("policy", ["drop", "truncate"])
def test_a_too_long_demonstration_is_handled_by_policy(policy, tiny_target, tmp_path, caplog):
    data = write_rows(tmp_path / "d.jsonl", SHORT[:20] + [LONG] + SHORT[20:])
    spec = spec_for(tiny_target, data, tooLong=policy)
    budget = mapper_budget(spec)
    assert budget.max_prompt_tokens == 1024 - spec.learn.max_new_tokens
    assert budget.count_tokens(LONG["question"], LONG["solution"]) > budget.max_prompt_tokens
    loaded = load_demonstrations(spec.dataset, NumericVerifier(), budget=budget)
    assert loaded.summary.read == len(SHORT) + 1
    if policy == "drop":
        assert len(loaded) == len(SHORT) and loaded.summary.skipped == {TOO_LONG: 1}
        assert "skipped 1 (1 longer than the mapper's prompt limit)" in caplog.text
    else:
        assert len(loaded) == len(SHORT) + 1 and loaded.summary.truncated == 1
        cut = loaded.rows[20]
        assert LONG["solution"].startswith(cut["solution"]) and len(cut["solution"]) > 100
        assert budget.count_tokens(cut["question"], cut["solution"]) <= budget.max_prompt_tokens
        assert budget.count_tokens(cut["question"], LONG["solution"][:len(cut["solution"]) + 2]
                                   ) > budget.max_prompt_tokens
        assert "truncated 1" in caplog.text
    assert all(budget.count_tokens(r["question"], r["solution"]) <= budget.max_prompt_tokens
               for r in loaded.rows)


def test_too_many_too_long_rows_fail_the_load_in_one_sentence(tiny_target, tmp_path):
    data = write_rows(tmp_path / "d.jsonl", SHORT[:5] + [LONG] * 5)
    spec = spec_for(tiny_target, data)
    with pytest.raises(UserError, match="5 of 10 rows are bad .*longer than the mapper's"):
        load_demonstrations(spec.dataset, NumericVerifier(), budget=mapper_budget(spec))
