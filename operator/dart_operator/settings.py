"""Operator settings: cluster-specific defaults the chart sets as environment variables.

A DartRun names what a run needs (GPUs, a node pool name, an image override); how that maps
onto a given cluster (which nodes, which GPU resource, which registry) is the operator's
business and comes from here. Read once at startup, validated, frozen; an empty variable
means "use the default".

    DART_IMAGE_WORKLOAD             image of every workload pod (jobs and servers)
    DART_IMAGE_SERVER               image of the inference servers (default: the workload image)
    DART_IMAGE_PULL_POLICY          imagePullPolicy of workload containers
    DART_IMAGE_PULL_SECRETS         comma-separated Secret names added to every workload pod
    DART_NODE_POOLS                 JSON: {"pool": {"nodeSelector": {}, "tolerations": [],
                                    "affinity": {}, "runtimeClassName": "", "gpuResource": ""}}
    DART_GPU_RESOURCE               GPU resource name when a component names no node pool
    DART_WORKLOAD_SERVICE_ACCOUNT   service account of workload pods (default: the namespace's)
    DART_ARTIFACTS_ACCESS_MODE      access mode of created artifact PVCs (ReadWriteMany for
                                    multi-node learners or shards spread over nodes)
    DART_PRIORITY_CLASS_NAME        PriorityClass of every workload pod (empty: the cluster default)
    DART_JOB_MANAGED_BY             spec.managedBy of every Job, e.g. kueue.x-k8s.io/multikueue
    DART_NETWORK_POLICY             "true": a NetworkPolicy per run fences its inference servers
    DART_POD_FAILURE_POLICY         "false" on clusters without Job podFailurePolicy
    DART_SERVER_STARTUP_SECONDS     how long a server may take to load its model
    DART_FAILED_SERVER_LOG_SECONDS  how long a failed run's inference servers stay up for their logs
    DART_RESYNC_SECONDS             period of the level-based resync (and progress polling)
    DART_PROGRESS_URL               template of the learner progress URL
    DART_METRICS_PORT               Prometheus port of the operator (0 disables)
    DART_LIVENESS_ENDPOINT          kopf liveness endpoint URL ("off" disables)
    DART_WATCH_NAMESPACES           comma-separated namespaces; empty watches the whole cluster
    DART_PEERING                    kopf peering name for HA (empty: standalone)
    DART_LOG_FORMAT                 "json": JSON-lines logs, the operator's and every workload's
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

ENV_PREFIX = "DART_"


class SettingsError(ValueError):
    """Operator settings that cannot be used; the message names the variable and the fix."""


class NodePool(BaseModel):
    """Where and how pods of a node pool are scheduled (keys in the chart's camelCase)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, validate_by_name=True,
        use_attribute_docstrings=True,
    )

    node_selector: dict[str, str] = {}
    """Node labels a pod of this pool requires."""
    tolerations: list[dict[str, Any]] = []
    """Tolerations for the pool's taints (e.g. nvidia.com/gpu:NoSchedule)."""
    affinity: dict[str, Any] | None = None
    """A full Kubernetes affinity, for what a nodeSelector cannot say."""
    runtime_class_name: str | None = None
    """RuntimeClass, e.g. `nvidia` where the GPU runtime is not the default."""
    gpu_resource: str = "nvidia.com/gpu"
    """Extended resource that counts this pool's GPUs."""


class Settings(BaseModel):
    """Everything the operator needs to know about the cluster it runs in."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    image_workload: str = "ghcr.io/dart-ai/dart:0.1.0"
    """Image of workload pods whose component names none."""
    image_server: str | None = None
    """Image of the inference servers; defaults to `image_workload`."""
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    """Pull policy of workload containers."""
    image_pull_secrets: list[str] = []
    """Secrets added to every workload pod, before the run's own."""
    node_pools: dict[str, NodePool] = {}
    """Node pools a DartRun may name in `resources.*.nodePool`."""
    gpu_resource: str = "nvidia.com/gpu"
    """GPU resource of components that name no node pool."""
    workload_service_account: str | None = None
    """Service account of workload pods; they call no Kubernetes API, so no token is mounted."""
    artifacts_access_mode: Literal["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod"] = (
        "ReadWriteOnce"
    )
    """Access mode of the artifact PVCs the operator creates."""
    priority_class_name: str | None = None
    """PriorityClass of every workload pod (servers and Jobs); empty uses the default."""
    job_managed_by: str | None = None
    """`spec.managedBy` of every stage Job (Kubernetes >= 1.30): `kueue.x-k8s.io/multikueue`
    lets MultiKueue run the Jobs on a worker cluster; empty leaves them to the Job controller."""
    network_policy: bool = False
    """Fence each run's inference servers: a NetworkPolicy admits to their gRPC port only the
    learn and synthesize pods of the same run (metrics stay open to scrapers)."""
    pod_failure_policy: bool = True
    """Give Jobs the exit-code policy (1-127 permanent, 128-255 retried); Kubernetes >= 1.26."""
    server_startup_seconds: Annotated[int, Field(ge=60)] = 1800
    """Budget for a server to load its model before the run fails with ModelLoadFailed."""
    failed_server_log_seconds: Annotated[int, Field(ge=0)] = 900
    """How long the inference servers of a failed run stay up so that `kubectl logs` can read
    them (a pod's logs go with the pod); 0 deletes them with the failure."""
    resync_seconds: Annotated[float, Field(gt=0)] = 30.0
    """Period of the level-based resync, which also polls the learner's progress."""
    progress_url: str = "http://{service}.{namespace}.svc:{port}/progress.json"
    """Learner progress URL; `{service}`, `{namespace}` and `{port}` are filled in."""
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = 9090
    """Port of the operator's Prometheus endpoint; 0 disables it."""
    liveness_endpoint: str = "http://0.0.0.0:8080/healthz"
    """kopf's liveness endpoint (what the chart's livenessProbe calls); `off` disables it."""
    watch_namespaces: list[str] = []
    """Namespaces to watch; empty watches the whole cluster."""
    peering: str | None = None
    """kopf peering name (needs kopf's peering CRDs); empty runs standalone."""
    log_format: Literal["text", "json"] = "text"
    """Log format of the operator and, passed on as DART_LOG_FORMAT, of every workload pod:
    `json` writes one JSON object per line with the run, stage and step (dart.logs)."""

    @property
    def server_image(self) -> str:
        return self.image_server or self.image_workload

    @property
    def liveness_url(self) -> str | None:
        return None if self.liveness_endpoint == "off" else self.liveness_endpoint


_LISTS = {"image_pull_secrets", "watch_namespaces"}
_JSON = {"node_pools"}


def _env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _parse_value(field: str, raw: str) -> Any:
    """Env vars are strings: lists are comma-separated, node pools JSON, empty means unset."""
    if field in _LISTS:
        return [item.strip() for item in raw.split(",") if item.strip()]
    if field in _JSON:
        try:
            return json.loads(raw)
        except json.JSONDecodeError as error:
            raise SettingsError(f"{_env_name(field)} is not valid JSON: {error}") from None
    return raw


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Settings from environment variables; a bad value is one sentence naming the variable."""
    values = {
        field: _parse_value(field, environ[_env_name(field)])
        for field in Settings.model_fields
        if environ.get(_env_name(field), "") != ""
    }
    try:
        return Settings.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        name = _env_name(str(first["loc"][0]))
        where = ".".join(str(p) for p in first["loc"][1:])
        raise SettingsError(f"{name}{' ' + where if where else ''}: {first['msg']}") from None
