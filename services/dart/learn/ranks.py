"""Which learner process this is, and the few collectives the learner needs.

    torchrun --nproc-per-node 2 -m dart learn --config run.yaml --artifacts runs/a

Under torchrun (or the DeepSpeed launcher) RANK/WORLD_SIZE say where a process stands; alone,
it is rank 0 of 1 and still joins a one-process group on a free loopback port, so one code
path (DeepSpeed included) serves both. The rules every distributed workload here follows:
the step's work is split by rank, rank 0 alone publishes, reports and marks, and a save that
is collective is entered by every rank.
"""

from __future__ import annotations

import os
import socket

import torch
import torch.distributed as dist

from dart.errors import UserError


def init_process_group() -> None:
    """Join the learners' process group (gloo on CPU, NCCL on GPU); idempotent."""
    import deepspeed

    if dist.is_available() and dist.is_initialized():
        return
    if "RANK" not in os.environ:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        os.environ.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1",
                          MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    elif os.environ.get("WORLD_SIZE") == "1":
        _no_shared_memory_all_reduce()
    deepspeed.init_distributed(dist_backend="nccl" if torch.cuda.is_available() else "gloo")


SHARED_MEMORY_OP = "deepspeed_shm_comm"


def _no_shared_memory_all_reduce() -> None:
    """DeepSpeed compiles a C++ shared-memory all-reduce for every CPU process group (45-90 s
    in a fresh environment: most of a first `dart run`'s learn stage on 2 cores). A process
    alone has no peer to share memory with, so it is marked unusable and never built."""
    import deepspeed.ops

    deepspeed.ops.__compatible_ops__[SHARED_MEMORY_OP] = False


def _initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if _initialized() else int(os.environ.get("RANK", "0"))


def world_size() -> int:
    return dist.get_world_size() if _initialized() else int(os.environ.get("WORLD_SIZE", "1"))


def is_main() -> bool:
    """Rank 0: the one process that publishes weights, writes progress and marks folders."""
    return rank() == 0


def single_node() -> bool:
    """All ranks on this machine, so loopback addresses started by rank 0 reach every rank."""
    return int(os.environ.get("LOCAL_WORLD_SIZE", world_size())) == world_size()


def barrier() -> None:
    if _initialized() and world_size() > 1:
        dist.barrier()


def broadcast_from_main(value):
    """Rank 0's `value` on every rank (any picklable object)."""
    if not _initialized() or world_size() == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather_to_all(value) -> list:
    """Every rank's `value`, in rank order, on every rank."""
    if not _initialized() or world_size() == 1:
        return [value]
    out = [None] * world_size()
    dist.all_gather_object(out, value)
    return out


def mean_over_ranks(values: dict[str, float]) -> dict[str, float]:
    """Each key averaged over the ranks (the ranks hold equal shares of the batch)."""
    if not _initialized() or world_size() == 1:
        return values
    keys = sorted(values)
    # NCCL reduces GPU tensors only; gloo, CPU ones.
    device = f"cuda:{torch.cuda.current_device()}" if dist.get_backend() == "nccl" else "cpu"
    tensor = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return {k: float(v) / world_size() for k, v in zip(keys, tensor.tolist(), strict=True)}


def shard(items: list, what: str) -> tuple[int, list]:
    """(index of the first, items) of this rank's contiguous share of `items`. Every rank
    gets the same count, so that the average of the ranks' gradients is the gradient of the
    whole batch."""
    world, me = world_size(), rank()
    if len(items) % world:
        raise UserError(f"{what} ({len(items)}) is not a multiple of the {world} learner "
                        f"processes: set it to a multiple of {world} or change the GPU count")
    size = len(items) // world
    return me * size, items[me * size : (me + 1) * size]
