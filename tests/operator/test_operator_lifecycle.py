"""The real kopf operator over HTTP against a fake API server: a DartRun's whole life.

The tests play the Deployment and Job controllers by writing child status, as those
controllers would, and check what the operator does (the API calls it makes) and what it
says (status, events). Every request the operator sends is checked against the RBAC
contract in `dart_operator.rbac`.
"""

from __future__ import annotations

import pytest
from fake_apiserver import FakeApiServer
from operator_harness import NAMESPACE, fake_cluster, running_operator, wait_until
from operator_kinds import MINIMAL_SPEC, make_run
from prometheus_client import REGISTRY

from dart_operator.rbac import OPERATOR_API_CALLS

RUN = "demo"
pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def apiserver(tmp_path, monkeypatch):
    with fake_cluster(tmp_path, monkeypatch, DART_FAILED_SERVER_LOG_SECONDS="2") as server:
        yield server


def status(api: FakeApiServer) -> dict:
    return (api.get("DartRun", NAMESPACE, RUN) or {}).get("status") or {}


def condition(api: FakeApiServer, kind: str) -> dict:
    return next(c for c in status(api)["conditions"] if c["type"] == kind)


def names(api: FakeApiServer, kind: str) -> set[str]:
    return {o["metadata"]["name"] for o in api.list(kind, NAMESPACE)}


def event_reasons(api: FakeApiServer) -> list[str]:
    return [e["reason"] for e in api.list("Event", NAMESPACE)
            if e.get("involvedObject", {}).get("name") == RUN]


def make_servers_available(api: FakeApiServer) -> None:
    for server in ("generator", "scorer"):
        name = f"{RUN}-{server}"
        wait_until(lambda n=name: api.get("Deployment", NAMESPACE, n), what=name)
        api.patch_status("Deployment", NAMESPACE, name,
                         {"observedGeneration": 1, "availableReplicas": 1, "readyReplicas": 1})


def job_status(api: FakeApiServer, stage: str, new_status: dict) -> None:
    name = f"{RUN}-{stage}"
    wait_until(lambda: api.get("Job", NAMESPACE, name), what=f"job {name}")
    api.patch_status("Job", NAMESPACE, name, new_status)


def complete(api: FakeApiServer, stage: str) -> None:
    job_status(api, stage, {
        "succeeded": 1, "startTime": "2026-01-01T00:00:00Z",
        "completionTime": "2026-01-01T00:10:00Z",
        "conditions": [{"type": "Complete", "status": "True"}]})


def set_suspend(api: FakeApiServer, value: bool) -> None:
    api.patch("DartRun", NAMESPACE, RUN, {"spec": {"suspend": value}})


SERVERS_UP = [(action, kind, f"{RUN}-{server}") for server in ("generator", "scorer")
              for action, kind in (("create", "deployments"), ("create", "services"),
                                   ("create", "poddisruptionbudgets"))]
SERVERS_DOWN = [("delete", kind, name) for _, kind, name in SERVERS_UP]
EXPECTED_CHANGES = [
    ("create", "configmaps", f"{RUN}-config"),
    ("create", "persistentvolumeclaims", f"{RUN}-artifacts"),
    *SERVERS_UP,
    ("create", "services", f"{RUN}-learn"),
    ("create", "jobs", f"{RUN}-learn"),
    *SERVERS_DOWN,                                 # suspended
    ("delete", "jobs", f"{RUN}-learn"),
    *SERVERS_UP,                                   # resumed
    ("create", "jobs", f"{RUN}-learn"),
    ("create", "jobs", f"{RUN}-synthesize"),
    *SERVERS_DOWN,                                 # no later unit needs them
    ("create", "jobs", f"{RUN}-sft-dart-0"),       # the SFT arms side by side
    ("create", "jobs", f"{RUN}-sft-original-0"),
    ("create", "jobs", f"{RUN}-evaluate"),
    ("create", "jobs", f"{RUN}-report"),
]
UNITS = ("learn", "synthesize", "sft-dart-0", "sft-original-0", "evaluate", "report")
"""The minimal run's plan (dart.plan)."""


def changes(api: FakeApiServer) -> list[tuple[str, str, str | None]]:
    """Writes the operator made to children, in order."""
    return [(c.verb, c.resource, c.name) for c in api.calls
            if c.verb in ("create", "update", "delete") and c.resource != "events"]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def assert_calls_within_contract(api: FakeApiServer) -> None:
    made = {(c.group, c.resource, c.verb) for c in api.calls}
    assert made, "the operator made no API calls"
    assert made <= set(OPERATOR_API_CALLS), sorted(made - set(OPERATOR_API_CALLS))


def test_a_run_from_creation_through_failure_retry_suspend_and_success_to_deletion(apiserver):
    api = apiserver
    with running_operator():
        api.create(make_run())

        # created: spec, volume and servers; no learner until the servers are ready
        wait_until(lambda: names(api, "Deployment") == {f"{RUN}-generator", f"{RUN}-scorer"},
                   what="servers")
        assert names(api, "ConfigMap") == {f"{RUN}-config"}
        assert names(api, "PersistentVolumeClaim") == {f"{RUN}-artifacts"}
        wait_until(lambda: status(api).get("phase") == "Pending", what="Pending")
        assert condition(api, "ServersReady")["reason"] == "Starting"
        assert names(api, "Job") == set()

        # servers ready: the learner starts; its progress shows in the status
        make_servers_available(api)
        wait_until(lambda: condition(api, "ServersReady")["status"] == "True", what="ready")
        job_status(api, "learn", {"active": 1, "startTime": "2026-01-01T00:00:00Z"})
        api.progress[(NAMESPACE, f"{RUN}-learn")] = {
            "step": 40, "total": 100, "reward_mean": 0.25, "answer_preservation": 0.9,
            "eta_seconds": 120.5}
        wait_until(lambda: status(api).get("progress", {}).get("percent") == 40,
                   what="learner progress")
        assert status(api)["phase"] == "Running"
        assert status(api)["progress"] == {"step": 40, "total": 100, "percent": 40,
                                           "etaSeconds": 120, "rewardMean": 0.25,
                                           "answerPreservation": 0.9}
        assert status(api)["observedGeneration"] == 1

        # a learner pod fails and the Job retries it: counted, not fatal
        job_status(api, "learn", {"active": 1, "failed": 1})
        wait_until(lambda: status(api).get("restarts") == 1, what="restart counted")
        assert status(api)["phase"] == "Running"

        # suspend: pods go (Job and servers deleted), artifacts stay
        set_suspend(api, True)
        wait_until(lambda: status(api).get("phase") == "Suspended", what="Suspended")
        wait_until(lambda: not names(api, "Job") and not names(api, "Deployment"),
                   what="pods gone")
        assert names(api, "PersistentVolumeClaim") == {f"{RUN}-artifacts"}
        assert condition(api, "Suspended")["status"] == "True"
        assert status(api)["observedGeneration"] == 2

        # resume where it stopped, then every stage to the end
        set_suspend(api, False)
        make_servers_available(api)
        complete(api, "learn")
        wait_until(lambda: condition(api, "Learned")["status"] == "True", what="Learned")
        complete(api, "synthesize")
        wait_until(lambda: condition(api, "Synthesized")["status"] == "True", what="synth")
        wait_until(lambda: not names(api, "Deployment"), what="servers torn down")
        complete(api, "sft-dart-0")
        complete(api, "sft-original-0")
        complete(api, "evaluate")
        complete(api, "report")
        wait_until(lambda: status(api).get("phase") == "Succeeded", what="Succeeded")
        ready = condition(api, "Ready")
        assert ready["status"] == "True" and ready["reason"] == "Succeeded"
        assert status(api)["completionTime"] and status(api)["startTime"]
        assert names(api, "Job") == {f"{RUN}-{s}" for s in UNITS}
        for reason in ("ServersReady", "Learned", "Suspended", "Synthesized", "FineTuned",
                       "Evaluated", "Ready", "Phase"):
            wait_until(lambda r=reason: r in event_reasons(api), what=f"event {reason}")

        # exactly these changes, in this order (sample-controller style)
        assert changes(api) == EXPECTED_CHANGES

        # the operator's metrics saw it all
        wait_until(lambda: sample("dart_operator_runs", phase="Succeeded") == 1, what="gauge")
        assert sample("dart_operator_reconciles_total", result="success") > 10
        assert sample("dart_operator_children_changes_total", action="create", kind="Job") >= 5
        assert sample("dart_operator_stage_duration_seconds_count", stage="evaluate") >= 1
        assert sample("dart_operator_run_progress_percent", namespace=NAMESPACE, run=RUN,
                      stage="learn") == 40

        # deletion: owner references take every child; no finalizer holds the run
        calls_before_delete = len(api.calls)
        api.delete("DartRun", NAMESPACE, RUN)
        assert api.get("DartRun", NAMESPACE, RUN) is None
        for kind in ("ConfigMap", "PersistentVolumeClaim", "Deployment", "Service", "Job"):
            assert names(api, kind) == set(), kind
        # the operator sees its Jobs vanish, finds the run gone, and creates nothing
        wait_until(lambda: any(c.verb == "get" and c.resource == "dartruns"
                               for c in api.calls[calls_before_delete:]), what="run looked up")
        wait_until(lambda: sample("dart_operator_runs", phase="Succeeded") == 0,
                   what="deleted run forgotten")
        assert REGISTRY.get_sample_value("dart_operator_run_progress_percent", {
            "namespace": NAMESPACE, "run": RUN, "stage": "learn"}) is None

    verbs = {(c.group, c.resource, c.verb) for c in api.calls}
    for expected in [("batch", "jobs", "create"), ("batch", "jobs", "delete"),
                     ("apps", "deployments", "create"), ("apps", "deployments", "delete"),
                     ("dart.ai", "dartruns/status", "patch"), ("", "events", "create")]:
        assert expected in verbs, expected
    late = [c for c in api.calls[calls_before_delete:] if c.verb in ("create", "update")
            and c.resource != "events"]
    assert late == [], late
    runs = [obj for _, _, resource, obj in api.log if resource == "dart.ai/dartruns"]
    assert all(not obj["metadata"].get("finalizers") for obj in runs)
    assert_calls_within_contract(api)


def test_a_failed_learner_fails_the_run_with_the_jobs_reason(apiserver):
    api = apiserver
    with running_operator():
        api.create(make_run())
        make_servers_available(api)
        job_status(api, "learn", {"failed": 4, "conditions": [{
            "type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
            "message": "Job has reached the specified backoff limit"}]})
        wait_until(lambda: status(api).get("phase") == "Failed", what="Failed")
        failed = condition(api, "Failed")
        assert failed["reason"] == "BackoffLimitExceeded"
        assert "backoff limit" in failed["message"]
        assert names(api, "Deployment")  # kept DART_FAILED_SERVER_LOG_SECONDS for their logs
        wait_until(lambda: not names(api, "Deployment"), what="servers torn down")
        assert names(api, "Job") == {f"{RUN}-learn"}
        wait_until(lambda: "Failed" in event_reasons(api), what="Failed event")
        warnings = [e for e in api.list("Event", NAMESPACE) if e["reason"] == "Failed"]
        assert warnings[0]["type"] == "Warning"
    assert_calls_within_contract(api)


def test_an_object_the_run_does_not_own_is_left_alone_with_a_warning(apiserver):
    api = apiserver
    foreign = {"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": f"{RUN}-config", "namespace": NAMESPACE,
                            "labels": {"dart.ai/run": RUN}},
               "data": {"mine": "yes"}}
    api.create(foreign)
    with running_operator():
        api.create(make_run())
        wait_until(lambda: "ChildConflict" in event_reasons(api), what="conflict warning")
        wait_until(lambda: names(api, "Deployment"), what="the rest still created")
    assert api.get("ConfigMap", NAMESPACE, f"{RUN}-config")["data"] == {"mine": "yes"}
    writes = [c for c in api.calls if c.resource == "configmaps" and c.verb != "list"]
    assert {c.verb for c in writes} == {"create"}
    assert_calls_within_contract(api)


def test_an_invalid_spec_is_reported_and_nothing_is_created(apiserver):
    api = apiserver
    spec = {**MINIMAL_SPEC, "resources": {"learner": {"nodePool": "nowhere"}}}
    with running_operator():
        api.create(make_run(spec))
        wait_until(lambda: status(api).get("phase") == "Failed", what="Failed")
        assert condition(api, "Failed")["reason"] == "InvalidSpec"
        assert "nowhere" in condition(api, "Failed")["message"]
    assert not any(c.verb == "create" and c.resource != "events" for c in api.calls)



def test_spec_edits_to_a_started_stage_are_refused_and_later_ones_applied(apiserver):
    api = apiserver
    with running_operator():
        api.create(make_run())
        make_servers_available(api)
        job_status(api, "learn", {"active": 1})
        wait_until(lambda: status(api).get("phase") == "Running", what="Running")
        config_before = api.get("ConfigMap", NAMESPACE, f"{RUN}-config")["data"]

        api.patch("DartRun", NAMESPACE, RUN, {"spec": {"learn": {"steps": 999}}})
        wait_until(lambda: condition(api, "SpecRefused")["status"] == "True", what="refused")
        assert "learn" in condition(api, "SpecRefused")["message"]
        assert status(api)["observedGeneration"] == 2
        assert api.get("ConfigMap", NAMESPACE, f"{RUN}-config")["data"] == config_before
        wait_until(lambda: "SpecRefused" in event_reasons(api), what="refusal event")

        api.patch("DartRun", NAMESPACE, RUN, {"spec": {"learn": {"steps": 100},
                                                       "sft": {"epochs": 2}}})
        wait_until(lambda: condition(api, "SpecRefused")["status"] == "False", what="accepted")
        wait_until(lambda: "epochs: 2" in api.get("ConfigMap", NAMESPACE, f"{RUN}-config")[
            "data"]["dartrun.yaml"], what="config updated")
    assert ("", "configmaps", "update") in {(c.group, c.resource, c.verb) for c in api.calls}
    assert_calls_within_contract(api)


def test_the_opt_in_real_cluster_check_itself_works(apiserver, monkeypatch, repo):
    """Keeps the KUBECONFIG-only test from rotting: run its body against the fake server."""
    import yaml
    from test_operator_real_cluster import NAMESPACE as REAL_NAMESPACE
    from test_operator_real_cluster import test_a_run_on_a_real_cluster_starts_suspends_and_goes

    crd = yaml.safe_load((repo / "charts/dart/crds/dartruns.dart.ai.yaml").read_text())
    apiserver.create(crd)
    if REAL_NAMESPACE != NAMESPACE:
        apiserver.create({"apiVersion": "v1", "kind": "Namespace",
                          "metadata": {"name": REAL_NAMESPACE}})
    test_a_run_on_a_real_cluster_starts_suspends_and_goes(monkeypatch)
    assert_calls_within_contract_except_tests(apiserver)


def assert_calls_within_contract_except_tests(api: FakeApiServer) -> None:
    """The test itself creates, patches and deletes the run; everything else is the
    operator's and must be in the contract."""
    own = {("dart.ai", "dartruns", verb) for verb in ("create", "patch", "delete")}
    made = {(c.group, c.resource, c.verb) for c in api.calls} - own
    assert made <= set(OPERATOR_API_CALLS), sorted(made - set(OPERATOR_API_CALLS))


def test_the_resync_enforces_the_deadline_and_the_ttl_without_any_event(apiserver):
    api = apiserver
    with running_operator():
        # servers that never get ready: only the clock can end this run
        api.create(make_run({**MINIMAL_SPEC, "activeDeadlineSeconds": 2}))
        wait_until(lambda: names(api, "Deployment"), what="servers")
        wait_until(lambda: status(api).get("phase") == "Failed", timeout=10, what="deadline")
        assert condition(api, "Failed")["reason"] == "DeadlineExceeded"
        wait_until(lambda: not names(api, "Deployment"), what="servers stopped")

        api.delete("DartRun", NAMESPACE, RUN)
        api.create(make_run({**MINIMAL_SPEC, "ttlSecondsAfterFinished": 1}))
        make_servers_available(api)
        for unit in UNITS:
            complete(api, unit)
        wait_until(lambda: status(api).get("phase") == "Succeeded", what="Succeeded")
        wait_until(lambda: not names(api, "Job") and not names(api, "ConfigMap"), timeout=10,
                   what="children deleted after the TTL")
        assert names(api, "PersistentVolumeClaim") == {f"{RUN}-artifacts"}
        assert status(api)["phase"] == "Succeeded"
    assert_calls_within_contract(api)
