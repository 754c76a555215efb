"""Ctrl-C that cannot be lost.

Python raises KeyboardInterrupt wherever the main thread happens to be when SIGINT arrives. If
that is a finaliser (`__del__`, a weakref callback, garbage collection of a gRPC channel), the
interpreter prints "Exception ignored" and carries on, and a long run would go on to its end.
The handler below also records the request, and `dart run` checks it between stages, so an
interrupt stops the run at the latest at the next stage boundary.
"""

from __future__ import annotations

import signal
import threading

_requested = threading.Event()


def install() -> None:
    """Route SIGINT through the recording handler (main thread only)."""
    signal.signal(signal.SIGINT, _on_sigint)


def _on_sigint(signum, frame) -> None:
    _requested.set()
    raise KeyboardInterrupt


def raise_if_requested() -> None:
    """Raise KeyboardInterrupt if a Ctrl-C arrived, even one whose exception was swallowed."""
    if _requested.is_set():
        raise KeyboardInterrupt
