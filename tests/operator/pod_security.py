"""The restricted Pod Security Standard (https://kubernetes.io/docs/concepts/security/
pod-security-standards/, policy version 1.29+) as a check over a pod spec: baseline and
restricted controls, each violation one line naming the field."""

from __future__ import annotations

from typing import Any

ALLOWED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                   "persistentVolumeClaim", "projected", "secret"}
ALLOWED_CAPABILITIES = {"NET_BIND_SERVICE"}
SECCOMP_TYPES = {"RuntimeDefault", "Localhost"}


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"],
            *pod.get("ephemeralContainers", [])]


def _baseline(pod: dict[str, Any]) -> list[str]:
    problems = [f"spec.{key} is set" for key in ("hostNetwork", "hostPID", "hostIPC")
                if pod.get(key)]
    for c in _containers(pod):
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            problems.append(f"{c['name']}: privileged")
        if any(p.get("hostPort") for p in c.get("ports", [])):
            problems.append(f"{c['name']}: hostPort")
        if sc.get("procMount") not in (None, "Default"):
            problems.append(f"{c['name']}: procMount")
    problems += [f"volume {v['name']}: hostPath" for v in pod.get("volumes", [])
                 if "hostPath" in v]
    return problems


def _restricted(pod: dict[str, Any]) -> list[str]:
    problems = []
    psc = pod.get("securityContext") or {}
    for v in pod.get("volumes", []):
        kinds = set(v) - {"name"}
        if not kinds <= ALLOWED_VOLUMES:
            problems.append(f"volume {v['name']}: type {sorted(kinds)} not allowed")
    if psc.get("runAsUser") == 0:
        problems.append("spec.securityContext.runAsUser is 0")
    for c in _containers(pod):
        sc, name = c.get("securityContext") or {}, c["name"]
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation must be false")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            problems.append(f"{name}: capabilities.drop must include ALL")
        if set(caps.get("add") or []) - ALLOWED_CAPABILITIES:
            problems.append(f"{name}: capabilities.add beyond NET_BIND_SERVICE")
        if not sc.get("runAsNonRoot", psc.get("runAsNonRoot")):
            problems.append(f"{name}: runAsNonRoot must be true (container or pod)")
        if sc.get("runAsUser") == 0:
            problems.append(f"{name}: runAsUser is 0")
        seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp not in SECCOMP_TYPES:
            problems.append(f"{name}: seccompProfile must be RuntimeDefault or Localhost")
    return problems


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """Every way a pod spec breaks the restricted profile; empty when it passes."""
    return _baseline(pod) + _restricted(pod)
