"""The seam between the gRPC layer and an engine: one ABC per server role.

The servicers tokenize with the backend's Hugging Face tokenizer and validate against its
limits, so both engines see the same token ids and refuse the same requests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from dart.serving.errors import RequestRejected
from dart.serving.requests import Sample, SampleRow, ScoreRow, ServingLimits

BASE_VERSION = "base"


class Backend(ABC):
    name: str  # "hf" or "vllm"
    model_path: str
    limits: ServingLimits
    tokenizer: Any
    max_model_len: int  # the model's context: prompt + generated tokens must fit

    @property
    @abstractmethod
    def engine_version(self) -> str: ...

    @property
    def weights_version(self) -> str:
        return BASE_VERSION

    @abstractmethod
    async def close(self) -> None:
        """Release the engine after in-flight work has finished."""


class GeneratorBackend(Backend):
    @abstractmethod
    async def generate(self, rows: list[SampleRow]) -> tuple[list[Sample], str]:
        """Samples for the rows, all from one set of weights, and that weights version."""

    @abstractmethod
    async def load_weights(self, path: Path, version: str) -> str:
        """Swap to the weights at `path`; returns "lora" or "full". Raises RequestRejected
        and keeps the old weights when the folder cannot be loaded."""


class ScorerBackend(Backend):
    @abstractmethod
    async def score(self, rows: list[ScoreRow]) -> list[list[float]]:
        """Log-probs of each row's completion tokens, one per token."""


def weights_kind(path: Path) -> str:
    """"lora" or "full" from the folder's marker files; rejects anything else up front so a
    typo costs a clear status, not a half-loaded model."""
    try:
        return _marked_kind(path)
    except (OSError, ValueError) as error:  # too long, a NUL byte, no permission, ...
        detail = getattr(error, "strerror", None) or str(error)
        raise RequestRejected("INVALID_ARGUMENT",
                              f"weights path {_shown(path)} cannot be read ({detail})"
                              ) from None


def _marked_kind(path: Path) -> str:
    if not path.exists():
        raise RequestRejected("NOT_FOUND", f"weights folder {_shown(path)} does not exist")
    if not path.is_dir():
        raise RequestRejected("FAILED_PRECONDITION", f"weights path {_shown(path)} is not a folder")
    if (path / "adapter_config.json").is_file():
        return "lora"
    if (path / "config.json").is_file():
        return "full"
    raise RequestRejected(
        "FAILED_PRECONDITION",
        f"{_shown(path)} holds neither adapter_config.json (a LoRA adapter) nor config.json "
        "(a full checkpoint)")


def load_failure(path: Path, kind: str, error: Exception) -> RequestRejected:
    return RequestRejected("FAILED_PRECONDITION",
                           f"could not load {kind} weights from {_shown(path)}: "
                           f"{' '.join(str(error).split())[:500]}")


def _shown(path: Path) -> str:
    """The path as the caller sent it, quoted when it holds anything but plain characters."""
    text = str(path)[:200]
    return text if text.isprintable() and text.strip() == text else repr(text)
