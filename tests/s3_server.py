"""A real S3-compatible HTTP server on loopback (moto in server mode) and the AWS environment
that points clients at it, as a user's environment points them at their store."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def aws_environment(endpoint: str) -> dict[str, str]:
    """Credentials and endpoint through the standard variables; no instance metadata lookup
    (it would wait for a cloud that is not there) and no ~/.aws files."""
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_CONFIG_FILE": "/nonexistent"}


@contextmanager
def running_s3() -> Iterator[str]:
    """The endpoint URL of a fresh moto server (every bucket starts empty)."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(monkeypatch):
    """(endpoint, boto3 client) with the process environment pointing at the server."""
    import boto3

    with running_s3() as endpoint:
        for name, value in aws_environment(endpoint).items():
            monkeypatch.setenv(name, value)
        yield endpoint, boto3.client("s3", endpoint_url=endpoint)
