"""GSM8K-style demonstrations generated offline by the `reasoning-gym` package.

`gsm_symbolic` fills GSM8K templates with fresh numbers and keeps the template's worked
solution (`metadata.answer_cot`, ending `#### ANSWER`), so it yields realistic demonstrations
with a gold answer, without any download.
"""

from __future__ import annotations

import zlib

from dart.errors import UserError

IN_DOMAIN_SPLITS = ("in-domain", "test", "eval")


def generate_task(task: str, *, size: int, seed: int) -> list[dict]:
    """`size` rows {id, question, solution, answer} of a reasoning-gym task; solution is None
    for tasks that come without a worked solution (fine for evaluation, bad as a demonstration)."""
    import reasoning_gym

    try:
        entries = reasoning_gym.create_dataset(task, size=size, seed=seed)
    except (KeyError, ValueError) as error:
        raise UserError(f"reasoning-gym has no task {task!r} ({error}); "
                        "set dataset.reasoningGym.task to e.g. gsm_symbolic") from None
    return [_row(f"{task}-{seed}-{index:06d}", entry) for index, entry in enumerate(entries)]


def generate_eval_split(task: str, split: str, *, size: int, seed: int,
                        exclude: set[str]) -> list[dict]:
    """Held-out problems: `in-domain` (or `test`, `eval`) draws the training task with another
    seed; any other split names a reasoning-gym task to use out of domain. Questions in
    `exclude` (the training set) are dropped so evaluation never sees a training problem."""
    eval_task = task if split in IN_DOMAIN_SPLITS else split
    eval_seed = seed + 1 + zlib.crc32(split.encode())
    rows = generate_task(eval_task, size=size + len(exclude) // 100 + 8, seed=eval_seed)
    return [r for r in rows if r["question"] not in exclude][:size]


def _row(row_id: str, entry: dict) -> dict:
    metadata = entry.get("metadata") or {}
    return {"id": row_id, "question": entry["question"], "answer": str(entry["answer"]),
            "solution": metadata.get("answer_cot")}
