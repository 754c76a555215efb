"""The artifacts folder: its layout (dart.artifacts.layout) and crash-safe writes with one
"done" marker (dart.artifacts.files). Every stage finds its inputs and outputs here and
never in another stage's code. Free of engines: the operator may import it."""

from dart.artifacts.files import (
    MARKER,
    append_jsonl,
    atomic_file,
    atomic_folder,
    atomic_write_json,
    atomic_write_jsonl,
    atomic_write_text,
    is_done,
    mark_done,
    read_json,
    read_json_or,
    read_jsonl,
)
from dart.artifacts.layout import DART, DIRECT_RL, Artifacts, LearnPaths, SftPaths, SynthesizePaths

__all__ = [
    "DART", "DIRECT_RL", "MARKER", "Artifacts", "LearnPaths", "SftPaths", "SynthesizePaths",
    "append_jsonl", "atomic_file", "atomic_folder", "atomic_write_json", "atomic_write_jsonl",
    "atomic_write_text", "is_done", "mark_done", "read_json", "read_json_or", "read_jsonl",
]
