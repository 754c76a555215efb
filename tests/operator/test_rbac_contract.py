"""The RBAC contract the chart is checked against is well-formed and honest about
workloads (the integration tests check that the operator stays within it)."""

from __future__ import annotations

from operator_kinds import SETTINGS, make_run

from dart_operator import jobs, servers
from dart_operator.assess import parse_context
from dart_operator.kube import KINDS
from dart_operator.rbac import OPERATOR_API_CALLS, WORKLOAD_API_CALLS

VERBS = {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}

UNITS = ("learn", "synthesize", "sft-dart-0", "evaluate", "report")
"""One unit of each stage of the minimal run's plan."""


def test_entries_are_group_resource_verb_without_duplicates():
    assert len(set(OPERATOR_API_CALLS)) == len(OPERATOR_API_CALLS)
    for group, resource, verb in OPERATOR_API_CALLS:
        assert verb in VERBS and resource == resource.lower() and "/" not in group


def test_every_kind_the_operator_writes_or_reads_is_covered():
    covered = {(g, r) for g, r, _ in OPERATOR_API_CALLS}
    for kind, (group, _, plural) in KINDS.items():
        assert (group, plural) in covered, kind
        assert (group, plural, "list") in OPERATOR_API_CALLS or kind == "DartRun"


def test_workloads_call_no_api_and_get_no_token():
    assert WORKLOAD_API_CALLS == ()
    ctx = parse_context(make_run(), SETTINGS)
    pods = [servers.deployment(ctx, "scorer")["spec"]["template"]["spec"]]
    pods += [jobs.job(ctx, stage)["spec"]["template"]["spec"] for stage in UNITS]
    assert all(pod["automountServiceAccountToken"] is False for pod in pods)
