"""Keep the libraries' chatter off a person's terminal (`--verbose` keeps it).

Called once by the CLI before any engine is imported: the settings are environment
variables and logging filters that transformers, huggingface_hub, DeepSpeed and TRL read
when they load, so they also reach child processes (servers, torchrun ranks).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path

QUIET_ENV = {
    "DART_QUIET": "1",                        # read by is_quiet(), in child processes too
    "TRANSFORMERS_VERBOSITY": "error",        # info/warning logs of transformers
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",      # also transformers' "Loading weights" bars
    "DATASETS_VERBOSITY": "error",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",  # "Tokenizing train dataset" bars of SFT
    "TOKENIZERS_PARALLELISM": "false",        # the fork warning after a tokenizer was used
}


def _errors_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR


def keep_compiled_ops_per_environment() -> None:
    """DeepSpeed compiles a C++ op on first use (~45 s) into TORCH_EXTENSIONS_DIR, by default
    one folder per user: two virtual environments then rebuild it for each other on every
    run. One folder per environment compiles once."""
    os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(Path(sys.prefix) / "torch_extensions"))


def is_quiet() -> bool:
    """True unless `--verbose` (or no CLI) asked for the libraries' own output."""
    return os.environ.get("DART_QUIET") == "1"


def quiet_libraries(verbose: bool = False) -> None:
    """Silence library logs and progress bars unless `verbose`; our own output is kept."""
    if verbose:
        return
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)
    # DeepSpeed's logger resets its level when created but keeps filters added before: this
    # is what drops "Setting accelerator to CPU" printed at import time.
    for name in ("DeepSpeed", "torch.distributed", "datasets"):
        logging.getLogger(name).addFilter(_errors_only)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning,
                            module=r"(torch|transformers|trl|peft|accelerate)")
