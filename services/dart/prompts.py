"""Every prompt DART builds, in one place: the mapper's rewrite prompt and the target's chat.

    prompt = mapper_prompt(tokenizer, question, expert_solution)   # the mapper samples from it
    prompt, completion = target_prompt_and_completion(tokenizer, question, rewrite)
    # the scorer reads log p(completion | prompt) under the target

Both go through the model's own chat template (`tokenizer.apply_chat_template`), so a real
model is prompted the way it was tuned and the tiny models the way they were pre-trained.
The target sees the question as the user turn and a solution as its own assistant turn; the
alignment reward is the likelihood of that assistant turn, end-of-turn token included (so a
rewrite that would not stop there is less likely). Any change to the strings or the layout
below changes what a reward means: bump PROMPT_FORMAT_VERSION, which every stage records in
its outputs next to the data it wrote.
"""

from __future__ import annotations

from typing import Protocol

PROMPT_FORMAT_VERSION = "dart-prompts-v1"

MAPPER_INSTRUCTION = (
    "Rewrite the solution in the style you would write it yourself. "
    "Keep every step and the same final answer."
)


class ChatTokenizer(Protocol):
    """The part of a Hugging Face tokenizer used here (no import of transformers needed)."""

    def apply_chat_template(self, conversation, **kwargs): ...


def mapper_messages(question: str, expert_solution: str) -> list[dict]:
    """The rewrite request: an instruction, then the question, then the expert's solution.

    The expert solution comes last, right before the rewrite, because it is what the rewrite
    must be read from: with the question last, the tiny mapper learnt to answer the question
    itself and ignore the expert text (examples/synthetic-task.md).
    """
    request = f"Question:\n{question}\n\nSolution:\n{expert_solution}"
    return [
        {"role": "system", "content": MAPPER_INSTRUCTION},
        {"role": "user", "content": request},
    ]


def mapper_prompt(tokenizer: ChatTokenizer, question: str, expert_solution: str) -> str:
    """Text the mapper continues with its rewrite (ends with the assistant generation prompt)."""
    return _render(tokenizer, mapper_messages(question, expert_solution), generation_prompt=True)


def target_messages(question: str, solution: str | None = None) -> list[dict]:
    """The target's conversation: the question as the user turn, a solution as its reply."""
    messages = [{"role": "user", "content": question}]
    if solution is not None:
        messages.append({"role": "assistant", "content": solution})
    return messages


def target_prompt(tokenizer: ChatTokenizer, question: str) -> str:
    """Text the target continues to answer `question` (evaluation, sampling)."""
    return _render(tokenizer, target_messages(question), generation_prompt=True)


def target_prompt_and_completion(
    tokenizer: ChatTokenizer, question: str, solution: str
) -> tuple[str, str]:
    """Split the full chat into (prompt, completion) with prompt + completion == full chat.

    The completion is the assistant turn as the template writes it, end-of-turn included;
    that is what the scorer rates and what SFT trains on.
    """
    prompt = target_prompt(tokenizer, question)
    full = _render(tokenizer, target_messages(question, solution), generation_prompt=False)
    if not full.startswith(prompt):
        raise ValueError("the chat template does not render the prompt as a prefix of the chat")
    return prompt, full[len(prompt):]


def mapper_prompt_and_completion(
    tokenizer: ChatTokenizer, question: str, expert_solution: str, rewrite: str
) -> tuple[str, str]:
    """(prompt, completion) for supervised rewriting (the mapper's starting point)."""
    messages = mapper_messages(question, expert_solution)
    prompt = _render(tokenizer, messages, generation_prompt=True)
    full = _render(tokenizer, messages + [{"role": "assistant", "content": rewrite}], False)
    if not full.startswith(prompt):
        raise ValueError("the chat template does not render the prompt as a prefix of the chat")
    return prompt, full[len(prompt):]


def _render(tokenizer: ChatTokenizer, messages: list[dict], generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=generation_prompt
    )
