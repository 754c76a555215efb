"""Data, verification and prompts are core: importing them pulls in no engine or server."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("grpc", "kopf", "vllm", "deepspeed", "torch", "transformers")


def test_core_modules_import_no_engine():
    code = (
        "import sys, dart.data.load, dart.data.synthetic, dart.verify, dart.verify.mathverify,"
        f" dart.prompts; print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
