"""Pod-level trouble that a Job or Deployment does not report: an image that cannot be
pulled, a container that keeps getting OOM-killed, a pod no node can take. Kubernetes keeps
retrying these, so they are reported (not failed): the status says what is wrong long before
a backoff limit or a progress deadline would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

COMPONENT_LABEL = "app.kubernetes.io/component"
STUCK_WAITING = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName",
                 "CreateContainerConfigError", "CreateContainerError", "CrashLoopBackOff")


@dataclass(frozen=True)
class Trouble:
    """What keeps one of a component's pods from running, as a reason and one sentence."""

    reason: str
    message: str


def _statuses(pod: dict[str, Any]) -> list[dict[str, Any]]:
    status = pod.get("status") or {}
    return [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]


def container_trouble(pod: dict[str, Any], fix: str) -> Trouble | None:
    """A container stuck waiting; a crash loop of OOM kills is named for what it is."""
    name = pod["metadata"]["name"]
    for cs in _statuses(pod):
        waiting = (cs.get("state") or {}).get("waiting") or {}
        reason = waiting.get("reason")
        if reason not in STUCK_WAITING:
            continue
        last = ((cs.get("lastState") or {}).get("terminated") or {}).get("reason")
        if reason == "CrashLoopBackOff" and last == "OOMKilled":
            return Trouble("OOMKilled", f"pod {name}: container {cs['name']} is OOM-killed "
                           f"again and again; raise {fix}.memory")
        detail = waiting.get("message") or f"container {cs['name']} is waiting"
        return Trouble(reason, f"pod {name}: {reason}: {detail}")
    return None


def scheduling_trouble(pod: dict[str, Any]) -> Trouble | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False" \
                and cond.get("reason") == "Unschedulable":
            detail = cond.get("message") or "no node can take it"
            return Trouble("Unschedulable", f"pod {pod['metadata']['name']}: {detail}")
    return None


def pod_troubles(pods: dict[str, dict[str, Any]],
                 resources: dict[str, str] | None = None) -> dict[str, Trouble]:
    """The first trouble of each component's pods (pods by name, as listed for the run).
    `resources` names the `spec.resources` entry of a component (a plan unit's) for the fix;
    a server's is its own name."""
    found: dict[str, Trouble] = {}
    for name in sorted(pods):
        pod = pods[name]
        component = (pod.get("metadata", {}).get("labels") or {}).get(COMPONENT_LABEL)
        if component is None or component in found or pod.get("status", {}).get("phase") in (
                "Succeeded", "Failed"):
            continue
        fix = "resources." + (resources or {}).get(component, component)
        trouble = container_trouble(pod, fix) or scheduling_trouble(pod)
        if trouble:
            found[component] = trouble
    return found
