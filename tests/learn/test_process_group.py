"""The learner's process group: a process alone on CPU does not build DeepSpeed's shared-memory
all-reduce (a C++ compile of a minute in a fresh environment, with no peer to use it). The
two-process learner tests (test_distributed_learner.py) still run DeepSpeed's own choice."""

import subprocess
import sys

PROBE = """
import os
from dart.learn.ranks import init_process_group
init_process_group()
import deepspeed.comm.comm as comm
print("shm-op:", comm.cdb.shm_comm_op is not None, "world:", os.environ["WORLD_SIZE"])
"""


def probe(tmp_path, env_extra: dict[str, str]) -> str:
    import os

    env = {**os.environ, "TORCH_EXTENSIONS_DIR": str(tmp_path / "ops"), **env_extra}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_a_lone_cpu_learner_builds_no_shared_memory_op(tmp_path):
    out = probe(tmp_path, {})
    assert "shm-op: False world: 1" in out
    assert not (tmp_path / "ops").exists() or not any((tmp_path / "ops").iterdir())
    assert "built successfully" not in out
