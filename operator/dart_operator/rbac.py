"""Every Kubernetes API call the operator and its workloads make: the contract the Helm
chart's Role/ClusterRole is checked against. The operator's integration test records every
request it sends to the fake API server and fails if one is missing here.

Entries are (API group, resource, verb), as RBAC rules name them.
"""

from __future__ import annotations

ApiCall = tuple[str, str, str]

RUN_API_CALLS: tuple[ApiCall, ...] = (
    ("dart.ai", "dartruns", "get"),            # each reconcile reads the freshest run
    ("dart.ai", "dartruns", "list"),           # kopf: watching runs
    ("dart.ai", "dartruns", "watch"),
    ("dart.ai", "dartruns/status", "patch"),   # the status
    # Children set blockOwnerDeletion on their owner reference; with the
    # OwnerReferencesPermissionEnforcement admission plugin (OpenShift's default) that needs
    # update on the owner's finalizers, or every create is a 403.
    ("dart.ai", "dartruns/finalizers", "update"),
)

CHILD_API_CALLS: tuple[ApiCall, ...] = (
    ("", "configmaps", "list"),
    ("", "configmaps", "create"),
    ("", "configmaps", "update"),              # the spec changed (and was accepted)
    ("", "configmaps", "delete"),              # TTL after the run finished
    ("", "persistentvolumeclaims", "list"),
    ("", "persistentvolumeclaims", "create"),
    ("", "services", "list"),
    ("", "services", "create"),
    ("", "services", "delete"),                # servers torn down; TTL
    ("", "pods", "list"),                      # restarts, read only
    ("apps", "deployments", "list"),
    ("apps", "deployments", "watch"),          # kopf: server readiness
    ("apps", "deployments", "create"),
    ("apps", "deployments", "update"),
    ("apps", "deployments", "delete"),
    ("batch", "jobs", "list"),
    ("batch", "jobs", "watch"),                # kopf: stage progress
    ("batch", "jobs", "create"),
    ("batch", "jobs", "delete"),               # suspend, failure, TTL
    ("policy", "poddisruptionbudgets", "list"),
    ("policy", "poddisruptionbudgets", "create"),       # one per server: drains go one by one
    ("policy", "poddisruptionbudgets", "delete"),       # servers torn down; TTL
    ("networking.k8s.io", "networkpolicies", "list"),
    ("networking.k8s.io", "networkpolicies", "create"),   # DART_NETWORK_POLICY: per-run fence
    ("networking.k8s.io", "networkpolicies", "delete"),   # servers torn down; TTL
    ("", "events", "create"),                  # transitions and warnings
)

PEERING_API_CALLS: tuple[ApiCall, ...] = tuple(
    ("kopf.dev", resource, verb)
    for resource in ("kopfpeerings", "clusterkopfpeerings")
    for verb in ("get", "list", "watch", "patch")
)
"""Only with DART_PEERING set: kopfpeerings when namespaced, clusterkopfpeerings otherwise."""

CLUSTER_API_CALLS: tuple[ApiCall, ...] = (
    ("", "namespaces", "list"),                # kopf: namespace patterns, cluster-wide
    ("", "namespaces", "watch"),
    ("apiextensions.k8s.io", "customresourcedefinitions", "get"),   # kopf: resource discovery
    ("apiextensions.k8s.io", "customresourcedefinitions", "list"),
    ("apiextensions.k8s.io", "customresourcedefinitions", "watch"),
)
"""Cluster-scoped: these need a ClusterRole even when the operator watches one namespace."""

OPERATOR_API_CALLS: tuple[ApiCall, ...] = (
    RUN_API_CALLS + CHILD_API_CALLS + PEERING_API_CALLS + CLUSTER_API_CALLS
)

WORKLOAD_API_CALLS: tuple[ApiCall, ...] = ()
"""Workload pods call no Kubernetes API: they read the spec from a mounted ConfigMap, and no
service-account token is mounted into them."""
