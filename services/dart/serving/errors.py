"""Errors on both sides of the wire.

A server-side `RequestRejected` becomes a gRPC status with its message; the client turns a
non-retryable status into an `InferenceError` that carries the server's message unchanged.
"""

from __future__ import annotations


class RequestRejected(Exception):
    """A request the server refuses without harm to itself; `code` is a grpc.StatusCode name."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def invalid_argument(message: str) -> RequestRejected:
    return RequestRejected("INVALID_ARGUMENT", message)


class InferenceError(RuntimeError):
    """An inference call failed: the server's status code and message, and where it came from."""

    def __init__(self, code: str, message: str, *, method: str, target: str):
        super().__init__(f"{method} on {target} failed with {code}: {message}")
        self.code = code
        self.message = message
        self.method = method
        self.target = target
