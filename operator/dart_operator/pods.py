"""Pod building blocks shared by every workload: image, resources, volumes, scheduling.

Everything a pod needs is decided here from the spec's `resources.<component>` and the
operator's settings, so Jobs and Deployments differ only in what they run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dart.config.spec import ComponentResources, DartRunSpec
from dart_operator import naming
from dart_operator.settings import NodePool, Settings

CONFIG_DIR = "/etc/dart"
CONFIG_FILE = "dartrun.yaml"
CONFIG_PATH = f"{CONFIG_DIR}/{CONFIG_FILE}"
ARTIFACTS_DIR = "/artifacts"
PVC_ROOT = "/pvc"
MAIN_CONTAINER = "main"
HOME_DIR = "/home/dart"
MODEL_CACHE_DIR = f"{ARTIFACTS_DIR}/cache/huggingface"
"""hf:// models are fetched once into the run's artifacts volume, which every pod mounts."""
BUCKET_MODEL_CACHE_DIR = f"{ARTIFACTS_DIR}/cache/models"
"""s3:// and gs:// models are downloaded there (dart.config.bucket_models, DART_MODEL_CACHE)."""
RUNTIME_UID = 10001
"""The runtime image's user (images/runtime/Dockerfile); fsGroup makes volumes writable by it."""
GPU_MEMORY_GI = 24
"""Default host memory per GPU when a component sets no `memory` (weights are staged in host
memory before they reach the GPU; 8 GPUs on the 4Gi default would OOM at load)."""
SHM_PER_GPU_GI = 4
"""Memory-backed /dev/shm per GPU for NCCL and vLLM (it counts against the memory limit)."""
HOME_SIZE = "8Gi"
"""emptyDir for $HOME (torch/triton caches): never the container's own filesystem."""

_PVC_URI = re.compile(r"^pvc://([a-z0-9]([-a-z0-9]*[a-z0-9])?)/")


@dataclass(frozen=True)
class RunContext:
    """One run as the desired-state functions see it: its object, parsed spec and settings."""

    run: dict[str, Any]
    spec: DartRunSpec
    settings: Settings

    @property
    def name(self) -> str:
        return self.run["metadata"]["name"]

    @property
    def namespace(self) -> str:
        return self.run["metadata"]["namespace"]

    @property
    def claim(self) -> str:
        return self.spec.artifacts.existing_claim or naming.claim_name(self.name)

    def resources_of(self, component: str) -> ComponentResources:
        """`spec.resources.<component>`; stage `learn` runs on the `learner` resources."""
        return getattr(self.spec.resources, "learner" if component == "learn" else component)

    def node_pool(self, component: str) -> NodePool:
        pool = self.resources_of(component).node_pool
        if pool is None:
            return NodePool(gpu_resource=self.settings.gpu_resource)
        return self.settings.node_pools[pool]


def unknown_node_pools(spec: DartRunSpec, settings: Settings) -> list[str]:
    """Problems with node pools the spec names but this operator does not know."""
    problems = []
    for component, resources in spec.resources:
        if resources.node_pool and resources.node_pool not in settings.node_pools:
            known = ", ".join(sorted(settings.node_pools)) or "none are configured"
            problems.append(
                f"resources.{component}.nodePool {resources.node_pool!r} is not a node pool"
                f" of this operator (known: {known})"
            )
    return problems


def pvc_claims(spec: DartRunSpec) -> list[str]:
    """Claims named by `pvc://CLAIM/PATH` models and data; they are mounted read-only."""
    uris = [spec.models.target.uri]
    if spec.models.mapper.init:
        uris.append(spec.models.mapper.init.uri)
    if spec.dataset.file:
        uris.append(spec.dataset.file.path)
    uris += [s.file.path for s in spec.evaluate.sets if s.file]
    return sorted({m.group(1) for uri in uris if (m := _PVC_URI.match(uri))})


_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50}
_DECIMAL = {"m": 10**-3, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}


def quantity_bytes(quantity: str) -> int:
    """A memory quantity (`512Mi`, `4Gi`, `1G`, `1000`) in bytes."""
    for suffix, factor in (*_BINARY.items(), *_DECIMAL.items()):
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(float(quantity))


def memory(ctx: RunContext, component: str) -> str:
    """The component's memory; GPU pods that set none get GPU_MEMORY_GI per GPU."""
    spec = ctx.resources_of(component)
    if spec.gpus and "memory" not in spec.model_fields_set:
        return f"{GPU_MEMORY_GI * spec.gpus}Gi"
    return spec.memory


def shm_size(ctx: RunContext, component: str) -> str:
    """SHM_PER_GPU_GI per GPU, at most a quarter of the pod's memory (shm is memory)."""
    gpus = ctx.resources_of(component).gpus
    quarter_mi = quantity_bytes(memory(ctx, component)) // 4 // 2**20
    return f"{min(SHM_PER_GPU_GI * gpus * 1024, quarter_mi)}Mi"


def resources(ctx: RunContext, component: str) -> dict[str, Any]:
    """Requests and limits; memory is limited to its request so a leak fails fast (OOM, 137).
    Ephemeral storage is requested for $HOME's caches, which live in an emptyDir."""
    spec = ctx.resources_of(component)
    size = memory(ctx, component)
    requests = {"cpu": spec.cpu, "memory": size, "ephemeral-storage": "1Gi"}
    limits = {"memory": size, "ephemeral-storage": HOME_SIZE}
    if spec.gpus:
        gpu = ctx.node_pool(component).gpu_resource
        requests[gpu] = limits[gpu] = str(spec.gpus)
    return {"requests": requests, "limits": limits}


def env(ctx: RunContext) -> list[dict[str, Any]]:
    """Environment every workload gets: the hub token (by reference) and the pvc:// root."""
    variables: list[dict[str, Any]] = [
        {"name": "DART_RUN_NAME", "value": ctx.name},
        {"name": "HOME", "value": HOME_DIR},
    ]
    if ctx.settings.log_format != "text":
        variables.append({"name": "DART_LOG_FORMAT", "value": ctx.settings.log_format})
    if hub_models(ctx.spec):  # fetched by the init step; workloads read the cache only
        variables += [{"name": "HF_HOME", "value": MODEL_CACHE_DIR},
                      {"name": "HF_HUB_OFFLINE", "value": "1"}]
    if pvc_claims(ctx.spec):
        variables.append({"name": "DART_PVC_ROOT", "value": PVC_ROOT})
    if bucket_models(ctx.spec):  # downloaded once per run onto the volume, not per pod
        variables.append({"name": "DART_MODEL_CACHE", "value": BUCKET_MODEL_CACHE_DIR})
    token = ctx.spec.models.target.token_secret
    if token:
        variables.append(hub_token(token))
    return variables + tracking_env(ctx.spec)


def hub_token(secret) -> dict[str, Any]:
    """HF_TOKEN from a SecretKeyRef, by reference (the value never enters a manifest)."""
    return {"name": "HF_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": secret.name, "key": secret.key}}}


def hub_export_env(spec: DartRunSpec, variables: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The report unit's environment when it pushes to the hub: online (the other workloads
    read the hub cache with HF_HUB_OFFLINE=1, which would refuse the push) and with the
    export's token, which may write, in place of the target's, which need only read."""
    if spec.export is None or not spec.export.uri.startswith("hf://"):
        return variables
    secret = spec.export.token_secret
    dropped = {"HF_HUB_OFFLINE"} | ({"HF_TOKEN"} if secret else set())
    kept = [v for v in variables if v["name"] not in dropped]
    return kept + ([hub_token(secret)] if secret else [])


TRACKING_VARIABLES = ("WANDB_API_KEY", "MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN",
                      "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")


def tracking_env(spec: DartRunSpec) -> list[dict[str, Any]]:
    """The tracker's credentials from `tracking.secret`, by reference; optional, so a Secret
    holding only WANDB_API_KEY serves W&B."""
    if spec.tracking is None or spec.tracking.secret is None:
        return []
    return [{"name": name, "valueFrom": {"secretKeyRef": {
        "name": spec.tracking.secret, "key": name, "optional": True}}}
        for name in TRACKING_VARIABLES]


def bucket_models(spec: DartRunSpec) -> list[str]:
    """s3:// and gs:// models of the run (each workload downloads them into the cache)."""
    refs = [spec.models.target] + ([spec.models.mapper.init] if spec.models.mapper.init else [])
    return [r.uri for r in refs if r.uri.startswith(("s3://", "gs://"))]


def hub_models(spec: DartRunSpec) -> list[str]:
    """`ORG/NAME@REV` of every hf:// model of the run and `datasets/ORG/NAME@REV` of every
    hub dataset (training data and evaluation sets), for the fetch init step."""
    refs = [spec.models.target] + ([spec.models.mapper.init] if spec.models.mapper.init else [])
    uris = [r.uri for r in refs] + [f.path for f in _file_sources(spec)]
    return list(dict.fromkeys(u.removeprefix("hf://") for u in uris if u.startswith("hf://")))


def _file_sources(spec: DartRunSpec) -> list:
    sets = [s.file for s in spec.evaluate.sets if s.file is not None]
    return ([spec.dataset.file] if spec.dataset.file is not None else []) + sets


FETCH_SCRIPT = """\
import sys
from huggingface_hub import snapshot_download
for ref in sys.argv[1:]:
    kind = "dataset" if ref.startswith("datasets/") else "model"
    repo, _, revision = ref.removeprefix("datasets/").partition("@")
    folder = snapshot_download(repo, repo_type=kind, revision=revision or None)
    print("fetching", ref, "->", folder, flush=True)
"""
# huggingface_hub locks each file in the cache, so pods starting together download a model
# once between them; a pod whose models are cached only checks their revision.


def model_fetch(ctx: RunContext, component: str) -> list[dict[str, Any]]:
    """The init step that puts the run's hf:// models into the cache on the artifacts
    volume before the workload starts (which then runs with HF_HUB_OFFLINE=1)."""
    models = hub_models(ctx.spec)
    if not models:
        return []
    fetch_env = [e for e in env(ctx) if e["name"] != "HF_HUB_OFFLINE"]
    return [{
        "name": "fetch-models",
        "image": image(ctx, component),
        "imagePullPolicy": ctx.settings.image_pull_policy,
        "command": ["python", "-c", FETCH_SCRIPT, *models],
        "env": fetch_env,
        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
        "volumeMounts": [{"name": "artifacts", "mountPath": ARTIFACTS_DIR},
                         {"name": "home", "mountPath": HOME_DIR}],
        "securityContext": container_security(),
    }]


def volume_mounts(ctx: RunContext, component: str) -> list[dict[str, Any]]:
    mounts = [
        {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
        {"name": "artifacts", "mountPath": ARTIFACTS_DIR},
        {"name": "home", "mountPath": HOME_DIR},
    ]
    mounts += [
        {"name": f"pvc-{claim}", "mountPath": f"{PVC_ROOT}/{claim}", "readOnly": True}
        for claim in pvc_claims(ctx.spec)
    ]
    if ctx.resources_of(component).gpus:
        mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
    return mounts


def volumes(ctx: RunContext, component: str) -> list[dict[str, Any]]:
    """Spec ConfigMap, artifacts claim, model/data claims, and shared memory for GPU pods
    (NCCL and vLLM need more /dev/shm than the container runtime's 64 MiB)."""
    vols: list[dict[str, Any]] = [
        {"name": "config", "configMap": {"name": naming.config_name(ctx.name)}},
        {"name": "artifacts", "persistentVolumeClaim": {"claimName": ctx.claim}},
        {"name": "home", "emptyDir": {"sizeLimit": HOME_SIZE}},
    ]
    vols += [
        {"name": f"pvc-{c}", "persistentVolumeClaim": {"claimName": c, "readOnly": True}}
        for c in pvc_claims(ctx.spec)
    ]
    if ctx.resources_of(component).gpus:
        vols.append({"name": "dshm", "emptyDir": {"medium": "Memory",
                                                  "sizeLimit": shm_size(ctx, component)}})
    return vols


def image(ctx: RunContext, component: str) -> str:
    own = ctx.resources_of(component).image
    if own:
        return own
    if component in naming.SERVERS:
        return ctx.settings.server_image
    return ctx.settings.image_workload


def main_container(ctx: RunContext, component: str, command: list[str]) -> dict[str, Any]:
    """The container that runs the component's `dart ...` command."""
    return {
        "name": MAIN_CONTAINER,
        "image": image(ctx, component),
        "imagePullPolicy": ctx.settings.image_pull_policy,
        "command": command,
        "env": env(ctx),
        "resources": resources(ctx, component),
        "volumeMounts": volume_mounts(ctx, component),
        "securityContext": container_security(),
    }


def container_security() -> dict[str, Any]:
    """Restricted Pod Security Standard, container part."""
    return {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True}


def pod_security() -> dict[str, Any]:
    """Restricted Pod Security Standard, pod part; fsGroup makes a fresh (root-owned)
    artifacts volume writable by the image's user."""
    return {"runAsNonRoot": True, "runAsUser": RUNTIME_UID, "runAsGroup": RUNTIME_UID,
            "fsGroup": RUNTIME_UID, "fsGroupChangePolicy": "OnRootMismatch",
            "seccompProfile": {"type": "RuntimeDefault"}}


def scheduling(ctx: RunContext, component: str) -> dict[str, Any]:
    """The node pool's placement fields, only those it sets."""
    pool = ctx.node_pool(component)
    fields = {
        "nodeSelector": pool.node_selector or None,
        "tolerations": pool.tolerations or None,
        "affinity": pool.affinity,
        "runtimeClassName": pool.runtime_class_name,
    }
    return {key: value for key, value in fields.items() if value is not None}


def pull_secrets(ctx: RunContext) -> list[dict[str, str]]:
    names = list(dict.fromkeys([*ctx.settings.image_pull_secrets, *ctx.spec.image_pull_secrets]))
    return [{"name": name} for name in names]


def pod_spec(ctx: RunContext, component: str, containers: list[dict[str, Any]],
             restart_policy: str) -> dict[str, Any]:
    """A complete pod spec; workloads call no Kubernetes API, so no token is mounted."""
    spec: dict[str, Any] = {
        "containers": containers,
        "restartPolicy": restart_policy,
        "volumes": volumes(ctx, component),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security(),
        **scheduling(ctx, component),
    }
    if fetch := model_fetch(ctx, component):
        spec["initContainers"] = fetch
    if ctx.settings.priority_class_name:
        spec["priorityClassName"] = ctx.settings.priority_class_name
    if ctx.settings.workload_service_account:
        spec["serviceAccountName"] = ctx.settings.workload_service_account
    if secrets := pull_secrets(ctx):
        spec["imagePullSecrets"] = secrets
    return spec
