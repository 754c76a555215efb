"""What a valid request is: the configured limits and the checks every backend shares.

Every check raises `RequestRejected` with a message that names the offending item and the
limit, so a bad request costs the server nothing and tells the caller what to fix.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from dart.config import limits as spec_limits
from dart.serving.errors import invalid_argument


@dataclass(frozen=True)
class ServingLimits:
    """Per-server limits, reported by Info so clients can chunk and validate up front."""

    # The defaults are the spec's limits (dart.config.limits): a valid DartRun fits them.
    max_items_per_request: int = spec_limits.MAX_ITEMS_PER_REQUEST
    max_n: int = spec_limits.MAX_SAMPLES_PER_PROMPT
    max_tokens: int = spec_limits.MAX_NEW_TOKENS
    max_input_tokens: int = spec_limits.MAX_INPUT_TOKENS
    # Dynamic batching: rows per forward batch, and how long the first row waits for company.
    max_batch_rows: int = 32
    max_wait_ms: float = 5.0
    # LoRA adapters a vllm generator keeps loaded at once: each publish loads a new one, and
    # rollouts still in flight on older ones (up to learn.maxStaleness) finish on theirs.
    adapter_slots: int = 2


@dataclass(frozen=True)
class SamplingParams:
    n: int
    temperature: float
    top_p: float
    max_tokens: int
    seed: int | None


@dataclass(frozen=True)
class SampleRow:
    """One (prompt, sample index) to generate: the unit the dynamic batcher packs."""

    prompt_ids: tuple[int, ...]
    temperature: float
    top_p: float
    max_tokens: int
    seed: int


@dataclass(frozen=True)
class Sample:
    token_ids: list[int]
    logprobs: list[float]
    finish_reason: str  # "stop" or "length"


@dataclass(frozen=True)
class ScoreRow:
    """A tokenized (prompt, completion): the completion is token_ids[completion_start:]."""

    token_ids: tuple[int, ...]
    completion_start: int


def check_items(items: list, *, what: str, limits: ServingLimits) -> None:
    if not items:
        raise invalid_argument(f"the request has no {what}s; send at least one")
    if len(items) > limits.max_items_per_request:
        raise invalid_argument(
            f"the request has {len(items)} {what}s, over the limit of "
            f"{limits.max_items_per_request}; split it (the Python client chunks for you)")


def check_sampling(params: SamplingParams, limits: ServingLimits) -> None:
    if not 1 <= params.n <= limits.max_n:
        raise invalid_argument(f"n={params.n} is outside 1..{limits.max_n}")
    if not 1 <= params.max_tokens <= limits.max_tokens:
        raise invalid_argument(f"max_tokens={params.max_tokens} is outside 1..{limits.max_tokens}")
    if not params.temperature >= 0:
        raise invalid_argument(f"temperature={params.temperature} must be >= 0 (0 is greedy)")
    if not 0 < params.top_p <= 1:
        raise invalid_argument(f"top_p={params.top_p} must be in (0, 1]")


def check_text(text: str, *, what: str, index: int) -> None:
    if not text.strip():
        raise invalid_argument(f"{what} {index} is empty")


def check_text_size(text: str, *, what: str, index: int, limits: ServingLimits) -> None:
    """Cheap, before tokenization: text this long cannot fit the token limit."""
    limit = limits.max_input_tokens * spec_limits.CHARS_PER_TOKEN_BOUND
    if len(text) > limit:
        raise invalid_argument(
            f"{what} {index} has {len(text):,} characters, over the limit of {limit:,} "
            f"({limits.max_input_tokens} tokens); shorten it")


def check_input_length(n_tokens: int, *, what: str, index: int, limits: ServingLimits) -> None:
    if n_tokens > limits.max_input_tokens:
        raise invalid_argument(
            f"{what} {index} has {n_tokens} tokens, over the limit of {limits.max_input_tokens}")


def row_seed(seed: int | None, prompt_index: int, sample_index: int) -> int:
    """A 63-bit seed per sample: reproducible from the request seed, independent of how rows
    are batched, and different for repeated prompts (GRPO needs diverse samples)."""
    if seed is None:
        return secrets.randbits(63)
    digest = hashlib.blake2b(f"{seed}:{prompt_index}:{sample_index}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "little") >> 1
