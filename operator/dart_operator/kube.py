"""The operator's Kubernetes calls: a handful of verbs over plain dicts.

One generic REST layer instead of the typed client classes: children are plain dicts
already, responses stay plain dicts, and every call the operator can make is visible here
(and listed in `rbac.OPERATOR_API_CALLS`). Both kopf and this layer log in the same way,
in-cluster or from a kubeconfig.
"""

from __future__ import annotations

import os
from typing import Any

import kopf
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from dart_operator import metrics

KINDS: dict[str, tuple[str, str, str]] = {
    "ConfigMap": ("", "v1", "configmaps"),
    "PersistentVolumeClaim": ("", "v1", "persistentvolumeclaims"),
    "Service": ("", "v1", "services"),
    "Pod": ("", "v1", "pods"),
    "Deployment": ("apps", "v1", "deployments"),
    "Job": ("batch", "v1", "jobs"),
    "NetworkPolicy": ("networking.k8s.io", "v1", "networkpolicies"),
    "PodDisruptionBudget": ("policy", "v1", "poddisruptionbudgets"),
    "DartRun": ("dart.ai", "v1alpha1", "dartruns"),
}
"""kind -> (API group, version, plural) of everything the operator reads or writes."""

CHILD_KINDS = ("ConfigMap", "PersistentVolumeClaim", "Service", "Deployment", "Job", "Pod",
               "NetworkPolicy", "PodDisruptionBudget")
_JSON = "application/json"
_MERGE_PATCH = "application/merge-patch+json"
_RESPONSE_TYPES = {200: "object", 201: "object", 202: "object"}


def collection_path(kind: str, namespace: str) -> str:
    group, version, plural = KINDS[kind]
    root = f"/apis/{group}/{version}" if group else f"/api/{version}"
    return f"{root}/namespaces/{namespace}/{plural}"


def resource_of(kind: str) -> tuple[str, str]:
    """(API group, plural) as RBAC and the metrics name them."""
    group, _, plural = KINDS[kind]
    return group, plural


async def load_configuration() -> client.Configuration:
    """In a pod: the service account. Elsewhere: $KUBECONFIG or ~/.kube/config."""
    cfg = client.Configuration()
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config(client_configuration=cfg)
    else:
        # Read $KUBECONFIG now: the library's default path is frozen when it is imported.
        await config.load_kube_config(config_file=os.environ.get("KUBECONFIG"),
                                      client_configuration=cfg)
    return cfg


def connection_info(cfg: client.Configuration) -> kopf.ConnectionInfo:
    """The same credentials for kopf's own watching and patching."""
    token = (cfg.api_key or {}).get("BearerToken")
    token = token.removeprefix("Bearer ").strip() if token else None
    return kopf.ConnectionInfo(
        server=cfg.host,
        ca_path=cfg.ssl_ca_cert,
        insecure=not cfg.verify_ssl,
        scheme="Bearer" if token else None,
        token=token,
        certificate_path=cfg.cert_file,
        private_key_path=cfg.key_file,
    )


class Kube:
    """Create, list, replace, delete children and patch a run's status, counting failures."""

    def __init__(self, api: client.ApiClient):
        self.api = api

    async def _call(self, verb: str, kind: str, path: str, method: str, *,
                    body: Any = None, query: list | None = None,
                    content_type: str = _JSON) -> dict[str, Any]:
        try:
            return await self.api.call_api(
                path, method, query_params=query or [], body=body,
                header_params={"Accept": _JSON, "Content-Type": content_type},
                response_types_map=_RESPONSE_TYPES, auth_settings=["BearerToken"],
                _return_http_data_only=True,
            )
        except ApiException as error:
            metrics.API_ERRORS.labels(verb=verb, resource=resource_of(kind)[1],
                                      code=str(error.status)).inc()
            raise

    async def list(self, kind: str, namespace: str, selector: str) -> dict[str, dict]:
        """Objects of a kind matching a label selector, by name."""
        path = collection_path(kind, namespace)
        found = await self._call("list", kind, path, "GET", query=[("labelSelector", selector)])
        return {item["metadata"]["name"]: {"kind": kind, **item} for item in found["items"]}

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        path = f"{collection_path(kind, namespace)}/{name}"
        return await self._call("get", kind, path, "GET")

    async def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        path = collection_path(obj["kind"], obj["metadata"]["namespace"])
        return await self._call("create", obj["kind"], path, "POST", body=obj)

    async def replace(self, obj: dict[str, Any], resource_version: str) -> dict[str, Any]:
        """Optimistic replace: a concurrent change makes it fail (409) and the next
        reconcile starts again from what is really there."""
        meta = obj["metadata"]
        body = {**obj, "metadata": {**meta, "resourceVersion": resource_version}}
        path = f"{collection_path(obj['kind'], meta['namespace'])}/{meta['name']}"
        return await self._call("update", obj["kind"], path, "PUT", body=body)

    async def delete(self, kind: str, namespace: str, name: str) -> None:
        """Delete in the background so a Job's pods go with it; gone already is fine."""
        path = f"{collection_path(kind, namespace)}/{name}"
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}
        try:
            await self._call("delete", kind, path, "DELETE", body=body)
        except ApiException as error:
            if error.status != 404:
                raise

    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> dict:
        """JSON merge patch of a DartRun's status subresource (None values remove keys)."""
        path = f"{collection_path('DartRun', namespace)}/{name}/status"
        return await self._call("patch", "DartRun", path, "PATCH", body={"status": status},
                                content_type=_MERGE_PATCH)
