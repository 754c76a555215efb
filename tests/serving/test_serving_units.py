"""Pure helpers of dart.serving: packing, request checks, per-sample seeds, dynamic batching,
and the committed stubs matching protos/."""

from __future__ import annotations

import asyncio
import importlib.util
import json

import numpy as np
import pytest

from dart.serving import requests as checks
from dart.serving.batching import DynamicBatcher
from dart.serving.errors import RequestRejected
from dart.serving.packing import pack_floats, pack_ids, unpack_floats, unpack_ids


@pytest.mark.skipif(importlib.util.find_spec("grpc_tools") is None,
                    reason="grpcio-tools is not installed in this venv")
def test_committed_stubs_match_protos():
    from dart.serving.protogen import stale_stubs

    assert stale_stubs() == [], "run `python -m dart.serving.protogen` and commit the stubs"


def test_packing_round_trips_little_endian():
    ids, logprobs = [0, 1, 511, 2**31 - 1], [-0.5, -12.25, 0.0]
    assert pack_ids(ids)[:8] == b"\x00\x00\x00\x00\x01\x00\x00\x00"
    assert unpack_ids(pack_ids(ids)).tolist() == ids
    np.testing.assert_array_equal(unpack_floats(pack_floats(logprobs)), logprobs)


def test_row_seed_is_reproducible_and_distinct_per_sample():
    seeds = {checks.row_seed(7, i, j) for i in range(4) for j in range(4)}
    assert len(seeds) == 16
    assert checks.row_seed(7, 2, 3) == checks.row_seed(7, 2, 3)
    assert checks.row_seed(7, 2, 3) != checks.row_seed(8, 2, 3)
    assert all(0 <= s < 2**63 for s in seeds)


@pytest.mark.parametrize("field, value, needle", [
    ("n", 0, "n=0"), ("n", 5, "n=5"), ("max_tokens", 0, "max_tokens=0"),
    ("max_tokens", 65, "max_tokens=65"), ("temperature", -1.0, "temperature"),
    ("top_p", 0.0, "top_p"), ("top_p", 1.5, "top_p"),
])
def test_sampling_limits_name_the_field(field, value, needle):
    limits = checks.ServingLimits(max_n=4, max_tokens=64)
    params = dict(n=1, temperature=1.0, top_p=1.0, max_tokens=8, seed=None) | {field: value}
    with pytest.raises(RequestRejected, match=needle) as caught:
        checks.check_sampling(checks.SamplingParams(**params), limits)
    assert caught.value.code == "INVALID_ARGUMENT"


def test_batcher_packs_concurrent_requests_into_one_batch():
    batch_sizes: list[int] = []

    def double(rows):
        return [2 * row for row in rows]

    async def scenario():
        batcher = DynamicBatcher(double, max_rows=8, max_wait_s=0.05,
                                 on_batch=lambda size, seconds: batch_sizes.append(size))
        results = await asyncio.gather(*[batcher.submit([i, i + 100]) for i in range(4)])
        await batcher.close()
        return results

    assert asyncio.run(scenario()) == [[2 * i, 2 * i + 200] for i in range(4)]
    assert batch_sizes == [8]


def test_batcher_failure_fails_only_that_batch():
    def fragile(rows):
        if -1 in rows:
            raise ValueError("poisoned row")
        return rows

    async def scenario():
        batcher = DynamicBatcher(fragile, max_rows=4, max_wait_s=0.0)
        with pytest.raises(ValueError, match="poisoned"):
            await batcher.submit([-1])
        healthy = await batcher.submit([1, 2, 3, 4, 5])
        await batcher.close()
        return healthy

    assert asyncio.run(scenario()) == [1, 2, 3, 4, 5]


def test_batcher_never_loses_rows_that_arrive_as_a_wait_times_out():
    """Regression: with asyncio.Queue + wait_for, a row arriving at the timeout could vanish
    (Python 3.11) and its request hung forever."""
    async def scenario():
        batcher = DynamicBatcher(lambda rows: rows, max_rows=4, max_wait_s=0.0005)

        async def trickle(offset: int) -> list[int]:
            results = []
            for i in range(60):
                await asyncio.sleep(0.0005 * (i % 3))
                results += await batcher.submit([offset + i])
            return results

        done = await asyncio.wait_for(asyncio.gather(*[trickle(k * 1000) for k in range(6)]), 30)
        await batcher.close()
        return done

    assert asyncio.run(scenario()) == [[k * 1000 + i for i in range(60)] for k in range(6)]


def test_auto_backend_is_hf_without_a_gpu(monkeypatch):
    import torch

    from dart.serving.backends import resolve_backend

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_backend("auto") == "hf"
    assert resolve_backend("vllm") == "vllm"


def test_scorer_refuses_a_model_without_chat_template(tiny_model, tmp_path):
    import shutil

    from dart.errors import UserError
    from dart.serving.backends import create_backend

    plain = shutil.copytree(tiny_model, tmp_path / "plain")
    config = json.loads((plain / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (plain / "tokenizer_config.json").write_text(json.dumps(config))
    (plain / "chat_template.jinja").unlink(missing_ok=True)
    with pytest.raises(UserError, match="has none"):
        asyncio.run(create_backend("scorer", str(plain), "hf", checks.ServingLimits(), {}))
