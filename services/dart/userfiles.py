"""Open files a user named, refusing what would hang or exhaust memory, with one sentence each.

A FIFO blocks `open()` until a writer appears and `/dev/zero` never ends, so every path a user
gives is checked to be a regular file (or a folder, where a folder is expected) before it is
read, and small files are read with a size bound.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from dart.errors import UserError


class FileProblem(UserError):
    """A file that cannot be used: `path: problem`."""

    def __init__(self, path: str | Path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


def regular_file(path: str | Path, what: str = "file") -> Path:
    """`path` as a Path if it is a readable regular file, else a FileProblem naming it."""
    path = Path(path)
    mode = _mode(path, what)
    if stat.S_ISDIR(mode):
        raise FileProblem(path, f"is a directory, expected a {what}")
    if not stat.S_ISREG(mode):
        raise FileProblem(path, "is not a regular file (a pipe, socket or device); "
                          f"give the path of a {what}")
    if not os.access(path, os.R_OK):
        raise FileProblem(path, f"permission denied; make the {what} readable")
    return path


def existing_path(path: str | Path, what: str) -> Path:
    """`path` if it is a regular file or a folder (never a FIFO or device), else a FileProblem."""
    path = Path(path)
    if stat.S_ISDIR(_mode(path, what)):
        return path
    return regular_file(path, what)


def read_small_bytes(path: str | Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file no larger than `limit`, or a FileProblem naming it."""
    path = regular_file(path, what)
    size = path.stat().st_size
    if size > limit:
        raise FileProblem(path, f"is {size:,} bytes; a {what} may be at most {limit:,}")
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise FileProblem(path, f"cannot read the {what} ({error.strerror or error})") from None
    if len(data) > limit:  # the file grew while we read it
        raise FileProblem(path, f"is over {limit:,} bytes; a {what} may be at most {limit:,}")
    return data


def _mode(path: Path, what: str) -> int:
    try:
        return path.stat().st_mode
    except FileNotFoundError:
        raise FileProblem(path, f"no such file or folder; check the path of the {what}") from None
    except PermissionError:
        raise FileProblem(path, f"permission denied; make the {what} readable") from None
    except OSError as error:
        raise FileProblem(path, f"cannot open the {what} ({error.strerror or error})") from None
