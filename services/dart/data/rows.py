"""Turn raw records into demonstrations, and account for every record that cannot be one.

A demonstration is a dict {id, question, solution, answer} (answer normalised by the run's
verifier). A bad row is never passed on with a guessed answer: rewards would then reward
agreement with garbage. Instead it is counted by reason, and the load fails when too many
rows are bad (the field mapping is probably wrong).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from dart.errors import UserError


@dataclass
class LoadSummary:
    """How many records were read, kept and skipped (by reason), for logs and outputs."""

    source: str
    read: int = 0
    kept: int = 0
    skipped: Counter = field(default_factory=Counter)
    truncated: int = 0  # kept, with the solution cut to fit the mapper's prompt limit

    @property
    def bad(self) -> int:
        return sum(self.skipped.values())

    def line(self) -> str:
        reasons = ", ".join(f"{n} {why}" for why, n in self.skipped.most_common())
        return f"{self.source}: kept {self.kept} of {self.read} rows" + (
            f"; skipped {self.bad} ({reasons})" if self.bad else "") + (
            f"; truncated {self.truncated} to fit the mapper's prompt" if self.truncated else "")

    def as_dict(self) -> dict:
        return {"source": self.source, "read": self.read, "kept": self.kept,
                "skipped": dict(self.skipped), "truncated": self.truncated}


@dataclass
class DemonstrationSet:
    """Demonstrations ready to use, with the account of how they were loaded."""

    rows: list[dict]
    summary: LoadSummary

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)


def to_candidate(record: dict | None, fields, verifier, index: int,
                 require_solution: bool = True) -> dict | str:
    """The demonstration of one record with its raw answer, or why it is bad (a short phrase).

    Evaluation rows need no solution (only a question and a gold answer)."""
    if record is None:
        return "not a JSON object"
    question, solution = _text(record, fields.question), _text(record, fields.solution)
    if question is None:
        return f"missing or empty '{fields.question}'"
    if solution is None and (require_solution or not fields.answer):
        return f"missing or empty '{fields.solution}'"
    raw_answer = _text(record, fields.answer) if fields.answer else verifier.extract(solution)
    if raw_answer is None:
        return f"missing or empty '{fields.answer}'" if fields.answer else "no answer in solution"
    row_id = str(record.get("id", index))
    return {"id": row_id, "question": question, "solution": solution, "answer": raw_answer}


def judge_records(records, fields, verifier, source: str, *, require_solution: bool = True
                  ) -> tuple[list[dict], LoadSummary]:
    """Demonstrations from raw records, gold answers normalised in one batch (math-verify
    runs in worker processes, so one round trip beats one per row)."""
    summary, candidates = LoadSummary(source), []
    for index, record in enumerate(records):
        summary.read += 1
        candidate = to_candidate(record, fields, verifier, index, require_solution)
        if isinstance(candidate, str):
            summary.skipped[candidate] += 1
        else:
            candidates.append(candidate)
    golds = verifier.normalize_golds([c["answer"] for c in candidates])
    rows = [c | {"answer": g} for c, g in zip(candidates, golds, strict=True) if g is not None]
    summary.skipped["unparseable answer"] += len(candidates) - len(rows)
    summary.skipped += Counter()  # drop a zero count
    summary.kept = len(rows)
    return rows, summary


def check_bad_fraction(summary: LoadSummary, max_bad_fraction: float) -> None:
    """Fail the load, in one sentence, when more rows are bad than the spec tolerates."""
    if summary.read == 0:
        raise UserError(f"{summary.source}: no rows to load; check dataset.file.path")
    fraction = summary.bad / summary.read
    if fraction > max_bad_fraction:
        reasons = ", ".join(f"{n} {why}" for why, n in summary.skipped.most_common())
        raise UserError(
            f"{summary.source}: {summary.bad} of {summary.read} rows are bad ({fraction:.0%} > "
            f"dataset.maxBadFraction {max_bad_fraction:.0%}): {reasons}; fix the data or "
            "dataset.fields, or raise dataset.maxBadFraction"
        )


def _text(record: dict, name: str | None) -> str | None:
    value = record.get(name) if name else None
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON's 1e999 is inf: no question or answer is infinite
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # numeric gold answers in Parquet / HF columns
    return (value.strip() or None) if isinstance(value, str) else None
