"""The chart's RBAC grants exactly the API calls the operator's code makes
(dart_operator.rbac.OPERATOR_API_CALLS) and, to workload pods, exactly WORKLOAD_API_CALLS:
every call is covered, nothing more is granted, and nothing is a wildcard."""

from __future__ import annotations

import pytest
from chart_manifests import CI_VALUES, NAMESPACE, find, one

from dart_operator import rbac

Call = tuple[str, str, str]
CLUSTER_PEERING = {c for c in rbac.PEERING_API_CALLS if c[1] == "clusterkopfpeerings"}
NAMESPACED_PEERING = set(rbac.PEERING_API_CALLS) - CLUSTER_PEERING


def rule_calls(rules: list[dict]) -> set[Call]:
    calls = set()
    for rule in rules or []:
        fields = (rule["apiGroups"], rule["resources"], rule["verbs"])
        assert not any("*" in f for f in fields), f"wildcard in {rule}"
        assert "resourceNames" not in rule and "nonResourceURLs" not in rule, rule
        calls |= {(g, r, v) for g in fields[0] for r in fields[1] for v in fields[2]}
    return calls


def grants(docs: list[dict], account: str, namespace: str) -> dict[str, set[Call]]:
    """What a ServiceAccount may do: {"": cluster-wide, "<ns>": in that namespace}."""
    roles = {(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]): d
             for d in docs if d["kind"] in ("Role", "ClusterRole")}
    found: dict[str, set[Call]] = {}
    for binding in find(docs, "RoleBinding") + find(docs, "ClusterRoleBinding"):
        subjects = binding.get("subjects") or []
        if not any(s["kind"] == "ServiceAccount" and s["name"] == account
                   and s["namespace"] == namespace for s in subjects):
            continue
        scope = binding["metadata"].get("namespace", "")
        ref = binding["roleRef"]
        role_ns = scope if ref["kind"] == "Role" else ""
        role = roles[(ref["kind"], role_ns, ref["name"])]
        found.setdefault(scope, set()).update(rule_calls(role["rules"]))
    return found


def operator_grants(docs: list[dict]) -> dict[str, set[Call]]:
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    return grants(docs, pod["serviceAccountName"], NAMESPACE)


def needed(namespaced: bool, peering: bool) -> tuple[set[Call], set[Call]]:
    """(cluster-wide, per watched namespace) calls for one configuration."""
    own = set(rbac.RUN_API_CALLS) | set(rbac.CHILD_API_CALLS)
    cluster = set(rbac.CLUSTER_API_CALLS)
    if peering and namespaced:
        own |= NAMESPACED_PEERING
    if peering and not namespaced:
        cluster |= CLUSTER_PEERING
    return (cluster, own) if namespaced else (cluster | own, set())


CASES = {
    "cluster-wide": {},
    "cluster-wide-peering": {"operator": {"peering": "dart", "replicas": 2}},
    "namespaced": {"operator": {"watchNamespaces": ["a", "b"]}},
    "namespaced-peering": {"operator": {"watchNamespaces": ["a"], "peering": "dart"}},
}


@pytest.mark.parametrize("case", CASES)
def test_operator_rbac_is_exactly_what_its_code_calls(render, case):
    values = CASES[case]
    namespaces = values.get("operator", {}).get("watchNamespaces", [])
    cluster, per_namespace = needed(bool(namespaces), "peering" in values.get("operator", {}))
    granted = operator_grants(render(values))
    assert granted.pop("") == cluster
    assert granted == dict.fromkeys(namespaces, per_namespace)


def test_every_operator_call_is_granted_in_some_configuration(render):
    union: set[Call] = set()
    for values in CASES.values():
        for calls in operator_grants(render(values)).values():
            union |= calls
    assert union == set(rbac.OPERATOR_API_CALLS)


def test_all_on_values_grant_the_namespaced_peering_configuration(render):
    cluster, per_namespace = needed(namespaced=True, peering=True)
    granted = operator_grants(render(None, CI_VALUES))
    assert granted.pop("") == cluster
    assert granted == {"dart-runs": per_namespace, "research": per_namespace}


def test_workload_pods_are_granted_exactly_the_workload_calls(render):
    docs = render(None, CI_VALUES)
    accounts = [a for a in find(docs, "ServiceAccount") if a["metadata"]["namespace"] != NAMESPACE]
    assert accounts
    for account in accounts:
        ns = account["metadata"]["namespace"]
        granted = grants(docs, account["metadata"]["name"], ns)
        assert set().union(*granted.values()) == set(rbac.WORKLOAD_API_CALLS)
        assert set(granted) <= {ns}, "workload rights must stay in their own namespace"
        assert one([d for d in find(docs, "Role") if d["metadata"]["namespace"] == ns],
                   "Role", account["metadata"]["name"])


def test_no_rbac_when_disabled(render):
    docs = render({"rbac": {"create": False}})
    assert not [d for d in docs if d["kind"].endswith(("Role", "RoleBinding"))]


def test_the_comparison_notices_an_extra_verb_and_a_wildcard():
    """The checks above can fail: one verb too many, or a wildcard, is caught."""
    rules = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
    assert rule_calls(rules) - set(rbac.OPERATOR_API_CALLS) == {("", "secrets", "get")}
    with pytest.raises(AssertionError, match="wildcard"):
        rule_calls([{"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]}])


def test_nobody_can_read_secrets(render):
    """Hub tokens reach pods as secretKeyRef: neither the operator nor a workload reads them."""
    docs = render(None, CI_VALUES)
    for role in find(docs, "Role") + find(docs, "ClusterRole"):
        assert "secrets" not in {r for _, r, _ in rule_calls(role["rules"])}
