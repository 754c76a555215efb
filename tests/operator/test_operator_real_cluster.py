"""Opt-in: the same operator against a real cluster (KUBECONFIG set, the chart's CRD
installed). No GPUs or images are needed: the run is checked up to its servers, then
suspended and deleted, with the cluster's own controllers and garbage collector.

    KUBECONFIG=~/.kube/config DART_TEST_NAMESPACE=dart-test pytest tests/operator -k real
"""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from operator_harness import wait_until
from operator_kinds import make_run

from dart_operator import kube

pytestmark = [
    pytest.mark.skipif(not os.environ.get("KUBECONFIG"),
                       reason="set KUBECONFIG to run the operator against a real cluster"),
    pytest.mark.timeout(300),
]
NAMESPACE = os.environ.get("DART_TEST_NAMESPACE", "default")
CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/dartruns.dart.ai"


def call(method: str, *args):
    """One Kube call on a fresh client (the test body is synchronous)."""
    async def run():
        async with client.ApiClient(await kube.load_configuration()) as api:
            return await getattr(kube.Kube(api), method)(*args)
    return asyncio.run(run())


def crd_installed() -> bool:
    async def run():
        async with client.ApiClient(await kube.load_configuration()) as api:
            await api.call_api(CRD_PATH, "GET", auth_settings=["BearerToken"],
                               response_types_map={200: "object"})
    try:
        asyncio.run(run())
    except ApiException:
        return False
    return True


def children(name: str) -> dict[str, set[str]]:
    selector = f"dart.ai/run={name}"
    return {kind: set(call("list", kind, NAMESPACE, selector))
            for kind in ("ConfigMap", "PersistentVolumeClaim", "Deployment", "Service", "Job")}


def run_status(name: str) -> dict:
    return call("get", "DartRun", NAMESPACE, name).get("status") or {}


def test_a_run_on_a_real_cluster_starts_suspends_and_goes(monkeypatch):
    from kopf.testing import KopfRunner

    if not crd_installed():
        pytest.skip("install the CRD first: kubectl apply -f charts/dart/crds/")
    monkeypatch.setenv("DART_METRICS_PORT", "0")
    name = f"e2e-{uuid.uuid4().hex[:6]}"
    run = make_run(name=name)
    run["metadata"] = {"name": name, "namespace": NAMESPACE}
    run.pop("status")
    args = ["run", "-m", "dart_operator", "--standalone", "--namespace", NAMESPACE]
    with KopfRunner(args, timeout=60):
        call("create", run)
        try:
            wait_until(lambda: children(name)["Deployment"] == {f"{name}-generator",
                                                                 f"{name}-scorer"},
                       timeout=60, what="servers")
            wait_until(lambda: run_status(name).get("phase") == "Pending", timeout=30)
            assert children(name)["ConfigMap"] == {f"{name}-config"}
            patch = {"spec": {"suspend": True}}
            asyncio.run(_merge_patch(name, patch))
            wait_until(lambda: run_status(name).get("phase") == "Suspended", timeout=60)
            wait_until(lambda: not children(name)["Deployment"], timeout=60, what="no servers")
        finally:
            call("delete", "DartRun", NAMESPACE, name)
    wait_until(lambda: not any(children(name).values()), timeout=120, what="children gone")


async def _merge_patch(name: str, patch: dict) -> None:
    async with client.ApiClient(await kube.load_configuration()) as api:
        path = f"{kube.collection_path('DartRun', NAMESPACE)}/{name}"
        await api.call_api(path, "PATCH", body=patch, auth_settings=["BearerToken"],
                           header_params={"Content-Type": "application/merge-patch+json"},
                           response_types_map={200: "object"})
