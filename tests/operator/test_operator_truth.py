"""The status tells the truth when the operator cannot act (issue 18), against the strict
fake API server: refused creates, invalid edits, suspended deadlines, bad names, RBAC under
owner-reference enforcement, and pod-level trouble."""

from __future__ import annotations

import time

import pytest
from fake_apiserver import FakeApiServer
from operator_harness import NAMESPACE, running_operator, wait_until
from operator_kinds import MINIMAL_SPEC, make_run
from test_operator_lifecycle import (
    RUN,
    apiserver,  # noqa: F401 - the fixture
    assert_calls_within_contract,
    condition,
    event_reasons,
    job_status,
    make_servers_available,
    names,
    set_suspend,
    status,
)

from dart_operator.rbac import OPERATOR_API_CALLS

pytestmark = pytest.mark.timeout(120)
QUOTA = "deployments.apps is forbidden: exceeded quota: gpu-quota"


def warnings(api: FakeApiServer, reason: str) -> list[str]:
    return [e["message"] for e in api.list("Event", NAMESPACE)
            if e["reason"] == reason and e.get("type") == "Warning"]


def learner_running(api: FakeApiServer, wait: bool = True) -> None:
    """The learn Job's pod runs (as the Job controller would report it)."""
    job_status(api, "learn", {"active": 1, "startTime": "2026-01-01T00:00:00Z"})
    if wait:
        wait_until(lambda: status(api).get("phase") == "Running", what="Running")


def start_learning(api: FakeApiServer, wait: bool = True) -> None:
    """A new run whose servers are up and whose learner runs."""
    api.create(make_run())
    make_servers_available(api)
    learner_running(api, wait)


def creates(api: FakeApiServer, resource: str) -> int:
    return sum(1 for c in api.calls if c.verb == "create" and c.resource == resource)


def test_a_forbidden_create_is_reported_with_the_apis_message_and_clears(apiserver):  # noqa: F811
    api = apiserver
    api.inject("deployments", "create", 403, QUOTA)
    with running_operator():
        api.create(make_run())
        wait_until(lambda: condition(api, "Ready")["reason"] == "FailedCreate",
                   what="Ready=FailedCreate")
        assert "exceeded quota" in condition(api, "Ready")["message"]
        assert status(api)["phase"] == "Pending"
        wait_until(lambda: warnings(api, "FailedCreate"), what="FailedCreate event")
        assert any("exceeded quota" in m and "Deployment" in m
                   for m in warnings(api, "FailedCreate"))
        wait_until(lambda: len(warnings(api, "FailedCreate")) == 2, what="one per server")
        time.sleep(1.5)  # several resyncs: the same failure is announced once per child
        assert len(warnings(api, "FailedCreate")) == 2, warnings(api, "FailedCreate")

        api.clear_faults()
        wait_until(lambda: names(api, "Deployment"), what="servers once the quota allows")
        wait_until(lambda: condition(api, "Ready")["reason"] != "FailedCreate",
                   what="failure cleared")
    assert_calls_within_contract(api)


def test_a_rejected_job_does_not_leave_a_stale_servers_condition(apiserver):  # noqa: F811
    api = apiserver
    api.inject("jobs", "create", 422, 'admission webhook "gpu-policy" denied the request: '
               "learner pods must set a priorityClassName")
    with running_operator():
        api.create(make_run())
        make_servers_available(api)
        wait_until(lambda: condition(api, "ServersReady")["status"] == "True",
                   what="ServersReady=True although the Job cannot be created")
        wait_until(lambda: condition(api, "Ready")["reason"] == "FailedCreate", what="Ready")
        assert "priorityClassName" in condition(api, "Ready")["message"]
        assert f"Job {RUN}-learn" in condition(api, "Ready")["message"]
        wait_until(lambda: warnings(api, "FailedCreate"), what="event")


def test_an_invalid_mid_run_edit_is_refused_and_the_run_goes_on(apiserver):  # noqa: F811
    api = apiserver
    with running_operator():
        start_learning(api)

        api.patch("DartRun", NAMESPACE, RUN,
                  {"spec": {"resources": {"generator": {"nodePool": "nowhere"}}}})
        wait_until(lambda: condition(api, "SpecRefused")["status"] == "True", what="refused")
        refused = condition(api, "SpecRefused")
        assert refused["reason"] == "InvalidSpec" and "nowhere" in refused["message"]
        assert status(api)["phase"] == "Running"
        assert status(api).get("completionTime") is None
        assert condition(api, "Failed")["status"] == "False"
        assert names(api, "Job") == {f"{RUN}-learn"}
        assert names(api, "Deployment") == {f"{RUN}-generator", f"{RUN}-scorer"}

        api.patch("DartRun", NAMESPACE, RUN, {"spec": {"resources": None}})
        wait_until(lambda: condition(api, "SpecRefused")["status"] == "False", what="accepted")
        assert status(api)["phase"] == "Running"

        # an invalid edit together with suspend still stops the run's pods
        api.patch("DartRun", NAMESPACE, RUN, {"spec": {
            "suspend": True, "resources": {"learner": {"nodePool": "nowhere"}}}})
        wait_until(lambda: not names(api, "Job") and not names(api, "Deployment"),
                   what="suspended although the rest of the edit is refused")
    assert_calls_within_contract(api)


def test_the_deadline_does_not_count_while_suspended(apiserver):  # noqa: F811
    api = apiserver
    with running_operator():
        api.create(make_run({**MINIMAL_SPEC, "activeDeadlineSeconds": 3, "suspend": True}))
        wait_until(lambda: status(api).get("phase") == "Suspended", what="Suspended")
        time.sleep(4)
        assert status(api)["phase"] == "Suspended", condition(api, "Failed")
        assert status(api).get("startTime") is None
        assert not names(api, "Deployment")

        set_suspend(api, False)
        wait_until(lambda: names(api, "Deployment"), what="servers after resuming")
        wait_until(lambda: status(api)["phase"] == "Pending", what="Pending, not Failed")
        set_suspend(api, True)
        wait_until(lambda: status(api).get("phase") == "Suspended", what="suspended again")
        time.sleep(3.5)
        assert status(api)["phase"] == "Suspended"
        set_suspend(api, False)  # the clock goes on from where it stopped
        wait_until(lambda: status(api).get("phase") == "Failed", timeout=10, what="deadline")
        assert condition(api, "Failed")["reason"] == "DeadlineExceeded"


def test_a_name_services_cannot_carry_is_refused_at_apply(apiserver):  # noqa: F811
    with pytest.raises(ValueError, match="must start with a letter"):
        apiserver.create(make_run(name="1run"))


def test_a_stored_name_services_cannot_carry_is_an_invalid_spec_not_a_retry_loop(apiserver):  # noqa: F811
    """A run stored before the CRD had its name rule: the operator refuses it once."""
    api = apiserver
    with running_operator():
        api.run(api._locked(api._create, make_run(name="1run")))  # past the CRD's rules
        get = lambda: (api.get("DartRun", NAMESPACE, "1run") or {}).get("status") or {}  # noqa: E731
        wait_until(lambda: get().get("phase") == "Failed", what="Failed")
        failed = next(c for c in get()["conditions"] if c["type"] == "Failed")
        assert failed["reason"] == "InvalidSpec"
        assert "starting with a letter" in failed["message"]
    assert not any(c.verb == "create" and c.resource != "events" for c in api.calls)


@pytest.fixture
def enforcing_apiserver(tmp_path, monkeypatch, apiserver):  # noqa: F811
    """The same server, now granting the operator exactly its RBAC contract and enforcing
    owner references as OpenShift does."""
    apiserver.granted = set(OPERATOR_API_CALLS)
    return apiserver


def test_children_can_be_created_under_owner_reference_enforcement(enforcing_apiserver):
    api = enforcing_apiserver
    with running_operator():
        api.run(api._locked(api._create, make_run()))  # the user's create, not the operator's
        wait_until(lambda: names(api, "Deployment") == {f"{RUN}-generator", f"{RUN}-scorer"},
                   what="servers created")
        assert names(api, "ConfigMap") == {f"{RUN}-config"}
    refused = [c for c in api.calls if (c.group, c.resource, c.verb) not in OPERATOR_API_CALLS]
    assert refused == []


def add_pod(api: FakeApiServer, component: str, status: dict) -> None:
    """A pod as the Job or ReplicaSet controller makes it: the template's labels."""
    labels = {"dart.ai/run": RUN, "app.kubernetes.io/component": component}
    api.create({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": f"{RUN}-{component}-x1", "namespace": NAMESPACE,
                             "labels": labels}, "spec": {"containers": []}})
    api.patch_status("Pod", NAMESPACE, f"{RUN}-{component}-x1", status)


def waiting(reason: str, message: str = "", last: str | None = None) -> dict:
    status = {"name": "main", "restartCount": 3, "state": {"waiting": {
        "reason": reason, "message": message}}}
    if last:
        status["lastState"] = {"terminated": {"reason": last, "exitCode": 137}}
    return {"phase": "Pending" if reason != "CrashLoopBackOff" else "Running",
            "containerStatuses": [status]}


def test_a_learner_that_cannot_pull_its_image_says_so(apiserver):  # noqa: F811
    api = apiserver
    with running_operator():
        start_learning(api, wait=False)
        add_pod(api, "learn", waiting("ImagePullBackOff",
                                      'Back-off pulling image "registry.example/dart:1.0"'))
        wait_until(lambda: condition(api, "Learned")["reason"] == "ImagePullBackOff",
                   what="Learned=ImagePullBackOff")
        assert "registry.example/dart:1.0" in condition(api, "Learned")["message"]
        assert condition(api, "Ready")["reason"] == "ImagePullBackOff"


def test_servers_that_cannot_be_scheduled_or_oom_loop_say_so_at_once(apiserver):  # noqa: F811
    api = apiserver
    with running_operator():
        api.create(make_run())
        wait_until(lambda: names(api, "Deployment"), what="servers")
        add_pod(api, "scorer", {"phase": "Pending", "conditions": [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."}]})
        wait_until(lambda: condition(api, "ServersReady")["reason"] == "Unschedulable",
                   what="ServersReady=Unschedulable")
        assert "Insufficient nvidia.com/gpu" in condition(api, "ServersReady")["message"]
        assert condition(api, "Ready")["reason"] == "Unschedulable"

        add_pod(api, "generator", waiting("CrashLoopBackOff", "back-off 5m0s", last="OOMKilled"))
        wait_until(lambda: condition(api, "ServersReady")["reason"] == "OOMKilled",
                   what="ServersReady=OOMKilled")
        assert "resources.generator.memory" in condition(api, "ServersReady")["message"]


def test_a_learner_image_or_gpus_edit_mid_stage_is_not_claimed_to_be_in_effect(apiserver):  # noqa: F811
    api = apiserver
    with running_operator():
        start_learning(api)
        assert condition(api, "SpecRefused")["reason"] == "SpecAccepted"
        job_before = api.get("Job", NAMESPACE, f"{RUN}-learn")

        api.patch("DartRun", NAMESPACE, RUN, {"spec": {"resources": {
            "learner": {"image": "registry.example/dart:2.0", "gpus": 2}}}})
        wait_until(lambda: condition(api, "SpecRefused")["reason"] == "AppliesOnRestart",
                   what="AppliesOnRestart")
        refused = condition(api, "SpecRefused")
        assert refused["status"] == "False" and "learn" in refused["message"]
        assert "in effect" not in refused["message"]
        assert api.get("Job", NAMESPACE, f"{RUN}-learn")["metadata"]["uid"] == \
            job_before["metadata"]["uid"]  # the running learner is not killed

        set_suspend(api, True)  # what the message advises: the new Job has the new pods
        wait_until(lambda: not names(api, "Job"), what="learner stopped")
        set_suspend(api, False)
        make_servers_available(api)
        wait_until(lambda: names(api, "Job"), what="learner again")
        main = api.get("Job", NAMESPACE, f"{RUN}-learn")["spec"]["template"]["spec"][
            "containers"][0]
        assert main["image"] == "registry.example/dart:2.0"
        assert main["resources"]["limits"]["nvidia.com/gpu"] == "2"
        wait_until(lambda: condition(api, "SpecRefused")["reason"] == "SpecAccepted",
                   what="in effect now")


def test_kueue_gates_the_servers_too_and_a_queued_run_is_not_running(apiserver):  # noqa: F811
    api = apiserver
    queue = "kueue.x-k8s.io/queue-name"
    with running_operator():
        api.create(make_run({**MINIMAL_SPEC, "queueName": "research-gpus"}))
        wait_until(lambda: len(names(api, "Deployment")) == 2, what="servers")
        for server in ("generator", "scorer"):
            deployment = api.get("Deployment", NAMESPACE, f"{RUN}-{server}")
            assert deployment["metadata"]["labels"][queue] == "research-gpus"
            assert deployment["spec"]["template"]["metadata"]["labels"][queue] == "research-gpus"
        make_servers_available(api)
        wait_until(lambda: names(api, "Job"), what="learner Job, suspended for Kueue")
        wait_until(lambda: condition(api, "Ready")["reason"] == "Queued", what="Ready=Queued")
        assert status(api)["phase"] == "Pending"
        assert "research-gpus" in condition(api, "Ready")["message"]

        api.patch("Job", NAMESPACE, f"{RUN}-learn", {"spec": {"suspend": False}})  # admitted
        learner_running(api)

        # Kueue preempts by suspending the admitted Job: the run lets go of every GPU
        api.patch("Job", NAMESPACE, f"{RUN}-learn", {"spec": {"suspend": True}})
        job_status(api, "learn", {"active": 0})
        wait_until(lambda: "Preempted" in event_reasons(api), what="a Preempted event")
        wait_until(lambda: not names(api, "Job"), what="the preempted Job deleted")
        deleted = {c.resource for c in api.calls if c.verb == "delete"}
        assert {"jobs", "deployments"} <= deleted
        # and starts over through the queue: servers first, then a Job created suspended
        make_servers_available(api)
        wait_until(lambda: names(api, "Job"), what="a new learner Job")
        assert api.get("Job", NAMESPACE, f"{RUN}-learn")["spec"]["suspend"] is True


def test_a_restricted_namespace_takes_every_pod_the_operator_asks_for(apiserver):  # noqa: F811
    api = apiserver
    api.patch("Namespace", None, NAMESPACE, {"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "restricted"}}})
    with running_operator():
        api.create(make_run({**MINIMAL_SPEC, "models": {
            "target": {"uri": "hf://Qwen/Qwen2.5-0.5B-Instruct@main"}}}))
        make_servers_available(api)
        for unit in ("learn", "synthesize", "sft-dart-0", "sft-original-0", "evaluate",
                     "report"):
            job_status(api, unit, {"succeeded": 1, "conditions": [
                {"type": "Complete", "status": "True"}]})
        wait_until(lambda: status(api).get("phase") == "Succeeded", what="Succeeded")
    templates = [c for c in api.calls if c.verb == "create" and c.resource in ("deployments",
                                                                                "jobs")]
    assert len(templates) == 8  # two servers, six units
    assert api.pss_warnings == []
