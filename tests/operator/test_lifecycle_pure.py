"""The state machine without I/O: a run walked through its life by the pure functions,
with the test playing the Job and Deployment controllers."""

from __future__ import annotations

import dataclasses

import kubernetes_validate
from operator_kinds import K8S_VERSIONS, SETTINGS, make_run
from operator_sim import T0, Sim

from dart_operator.assess import assess, template_hash
from dart_operator.desired import Plan, plan


def started() -> Sim:
    sim = Sim(make_run(), SETTINGS)
    sim.step()
    return sim


def through_learn() -> Sim:
    sim = started()
    sim.servers_available()
    sim.step()
    sim.job_running("learn")
    sim.step()
    sim.job_done("learn")
    sim.step()
    return sim


def test_a_new_run_gets_its_spec_volume_and_servers_but_no_job_yet():
    sim = started()
    assert sim.names("ConfigMap") == {"demo-config"}
    assert sim.names("PersistentVolumeClaim") == {"demo-artifacts"}
    assert sim.names("Deployment") == {"demo-generator", "demo-scorer"}
    assert sim.names("Service") == {"demo-generator", "demo-scorer"}
    assert sim.names("Job") == set()
    status = sim.run["status"]
    assert status["phase"] == "Pending" and status["stage"] == "learn"
    assert sim.condition("Learned")["reason"] == "WaitingForServers"
    assert sim.condition("ServersReady")["reason"] == "Starting"
    assert status["artifacts"] == {"claim": "demo-artifacts", "path": "/"}


def test_reconcile_is_idempotent():
    sim = started()
    sim.step()
    assert sim.last_plan == Plan()


def test_ready_servers_start_the_learner_and_the_run_is_running():
    sim = started()
    sim.servers_available()
    sim.step()
    assert sim.names("Job") == {"demo-learn"}
    assert "demo-learn" in sim.names("Service")
    sim.job_running("learn")
    status = sim.step()
    assert status["phase"] == "Running" and status["startTime"]
    assert sim.condition("ServersReady")["status"] == "True"
    assert sim.condition("Learned")["reason"] == "Running"


def test_a_learner_pod_failure_is_retried_and_counted_not_fatal():
    sim = started()
    sim.servers_available()
    sim.step()
    sim.job_running("learn", failed=1)
    status = sim.step()
    assert status["phase"] == "Running" and status["restarts"] == 1
    assert sim.condition("Failed")["status"] == "False"


def test_stages_run_in_order_and_servers_go_when_no_stage_needs_them():
    sim = through_learn()
    assert sim.condition("Learned")["status"] == "True"
    assert "demo-synthesize" in sim.names("Job")
    sim.job_running("synthesize")
    sim.step()
    sim.job_done("synthesize")
    sim.step()
    assert sim.names("Deployment") == set()
    assert sim.names("Service") == {"demo-learn"}
    assert {"demo-sft-dart-0", "demo-sft-original-0"} <= sim.names("Job")
    assert sim.condition("ServersReady")["reason"] == "NotNeeded"
    sim.job_done("sft-dart-0")
    sim.job_done("sft-original-0")
    sim.step()
    assert sim.condition("FineTuned")["status"] == "True"
    sim.job_done("evaluate")
    sim.step()
    assert sim.names("Job") >= {"demo-report"}  # the report follows the evaluation
    sim.job_done("report")
    status = sim.step()
    assert status["phase"] == "Succeeded" and status["completionTime"]
    assert sim.condition("Ready")["status"] == "True"
    assert status["progress"] == {"percent": 100}


def test_synthesize_progress_counts_finished_shards():
    sim = Sim(make_run(), SETTINGS)
    sim.run["spec"]["synthesize"] = {"shards": 4, "parallelism": 2}
    sim.step()
    sim.servers_available()
    sim.step()
    sim.job_done("learn")
    sim.step()
    sim.get("Job", "synthesize")["status"] = {"active": 2, "succeeded": 1}
    status = sim.step()
    assert status["progress"] == {"step": 1, "total": 4, "percent": 25}


def test_a_failed_job_fails_the_run_with_its_reason_and_stops_everything():
    sim = started()
    sim.servers_available()
    sim.step()
    sim.job_failed("learn", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    status = sim.step()
    assert status["phase"] == "Failed"
    failed = sim.condition("Failed")
    assert failed["status"] == "True" and failed["reason"] == "BackoffLimitExceeded"
    assert "stage learn" in failed["message"]
    assert sim.condition("Ready")["reason"] == "BackoffLimitExceeded"
    assert sim.names("Deployment") == {"demo-generator", "demo-scorer"}  # kept for their logs
    assert sim.names("Job") == {"demo-learn"}  # kept for inspection
    sim.step()
    assert sim.last_plan == Plan()
    sim.step(minutes=15)  # DART_FAILED_SERVER_LOG_SECONDS later the servers go
    assert sim.names("Deployment") == set() and sim.names("Service") == {"demo-learn"}
    assert sim.names("Job") == {"demo-learn"}
    assert sim.run["status"]["phase"] == "Failed"


def test_suspend_deletes_running_pods_and_resume_continues_at_the_same_stage():
    sim = through_learn()
    sim.job_running("synthesize")
    sim.run["spec"]["suspend"] = True
    status = sim.step()
    assert status["phase"] == "Suspended"
    assert sim.names("Job") == {"demo-learn"}
    assert sim.names("Deployment") == set()
    assert "demo-artifacts" in sim.names("PersistentVolumeClaim")
    assert sim.condition("Suspended")["status"] == "True"
    assert sim.condition("Synthesized")["reason"] == "Suspended"
    sim.run["spec"]["suspend"] = False
    sim.step()
    assert sim.names("Deployment") == {"demo-generator", "demo-scorer"}
    sim.servers_available()
    sim.step()
    assert sim.names("Job") == {"demo-learn", "demo-synthesize"}
    assert sim.condition("Learned")["status"] == "True"


def test_deadline_fails_the_run_and_deletes_the_running_job():
    sim = started()
    sim.run["spec"]["activeDeadlineSeconds"] = 600
    sim.servers_available()
    sim.step()
    job = sim.get("Job", "learn")
    assert 0 < job["spec"]["activeDeadlineSeconds"] <= 600
    sim.job_running("learn")
    sim.step()
    status = sim.step(minutes=11)
    assert status["phase"] == "Failed"
    assert sim.condition("Failed")["reason"] == "DeadlineExceeded"
    assert sim.names("Job") == set()
    sim.step(minutes=15)
    assert sim.names("Deployment") == set()
    sim.step()
    assert sim.run["status"]["phase"] == "Failed"  # sticky without the Job


def test_a_server_that_never_loads_fails_the_run_with_model_load_failed():
    sim = started()
    sim.get("Deployment", "scorer")["status"] = {"conditions": [{
        "type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
        "message": "ReplicaSet demo-scorer-1 has timed out progressing."}]}
    sim.step()
    failed = sim.condition("Failed")
    assert failed["reason"] == "ModelLoadFailed" and "scorer" in failed["message"]
    assert sim.condition("ServersReady")["reason"] == "ModelLoadFailed"
    assert "demo-scorer" in sim.names("Deployment")  # its crash loop's logs stay readable
    sim.step(minutes=16)
    assert sim.names("Deployment") == set()


def test_an_unknown_node_pool_is_an_invalid_spec_until_fixed():
    sim = Sim(make_run(), SETTINGS)
    sim.run["spec"]["resources"] = {"learner": {"nodePool": "tpu"}}
    status = sim.step()
    assert status["phase"] == "Failed"
    failed = sim.condition("Failed")
    assert failed["reason"] == "InvalidSpec" and "'tpu'" in failed["message"]
    assert "gpu-a100" in failed["message"]
    assert sim.children == {}
    sim.run["spec"]["resources"] = {"learner": {"nodePool": "h100"}}
    assert sim.step()["phase"] == "Pending"
    assert sim.names("Deployment")


def test_a_changed_input_of_a_started_stage_is_refused_not_half_applied():
    sim = through_learn()
    config_before = sim.get("ConfigMap", "config")["data"]
    sim.run["spec"]["learn"]["steps"] = 500
    sim.run["metadata"]["generation"] = 2
    status = sim.step()
    assert sim.last_plan == Plan()
    refused = sim.condition("SpecRefused")
    assert refused["status"] == "True" and "learn" in refused["message"]
    assert sim.condition("Ready")["reason"] == "SpecRefused"
    assert sim.get("ConfigMap", "config")["data"] == config_before
    assert status["observedGeneration"] == 2
    sim.run["spec"]["learn"]["steps"] = 100
    sim.step()
    assert sim.condition("SpecRefused")["status"] == "False"


def test_a_change_to_a_later_stage_is_accepted_and_reaches_the_config_map():
    sim = through_learn()
    sim.run["spec"]["sft"] = {"epochs": 2}
    sim.step()
    assert sim.last_plan.update and sim.last_plan.update[0]["kind"] == "ConfigMap"
    assert "epochs: 2" in sim.get("ConfigMap", "config")["data"]["dartrun.yaml"]


def test_a_changed_server_spec_replaces_the_deployment():
    sim = started()
    sim.run["spec"]["resources"] = {"generator": {"replicas": 2}}
    sim.step()
    updated = [(o["kind"], o["metadata"]["name"]) for o in sim.last_plan.update]
    assert updated == [("ConfigMap", "demo-config"), ("Deployment", "demo-generator")]


def test_kueue_jobs_wait_for_admission():
    sim = Sim(make_run(), SETTINGS)
    sim.run["spec"]["queueName"] = "gpus"
    sim.step()
    sim.servers_available()
    sim.step()
    assert sim.get("Job", "learn")["spec"]["suspend"] is True
    sim.step()
    assert sim.condition("Learned")["reason"] == "Queued"


def test_a_preempted_stage_releases_its_servers_and_waits_in_the_queue_again():
    """Kueue preempts by suspending an admitted Job: the servers must not keep their GPUs."""
    sim = Sim(make_run(), SETTINGS)
    sim.run["spec"]["queueName"] = "gpus"
    sim.step()
    sim.servers_available()
    sim.step()
    job = sim.get("Job", "learn")
    sim.step()  # created suspended and not yet admitted: queued, the servers stay
    assert sim.condition("Ready")["reason"] == "Queued"
    assert sim.names("Deployment") == {"demo-generator", "demo-scorer"}
    job["spec"]["suspend"] = False  # admitted
    sim.job_running("learn")
    sim.step()
    assert sim.run["status"]["phase"] == "Running"
    job["spec"]["suspend"] = True  # preempted
    job["status"] = {}
    status = sim.step()
    assert ("Job", "demo-learn") in sim.last_plan.delete
    assert {("Deployment", "demo-generator"), ("Deployment", "demo-scorer")} <= set(
        sim.last_plan.delete)
    assert status["phase"] == "Pending"
    for kind in ("Ready", "Learned", "ServersReady"):
        assert sim.condition(kind)["reason"] == "Preempted"
    assert "queue gpus took back the GPUs of unit learn" in sim.condition("Ready")["message"]
    sim.step()  # the stage starts over: servers first (queued themselves), then its Job
    assert sim.names("Deployment") == {"demo-generator", "demo-scorer"}
    assert sim.get("Job", "learn") is None and sim.condition("Ready")["reason"] != "Preempted"
    sim.servers_available()
    sim.step()
    assert sim.get("Job", "learn")["spec"]["suspend"] is True


def test_multikueue_manages_the_jobs_when_the_operator_says_so():
    def created_jobs(settings):
        run = make_run()
        run["spec"]["queueName"] = "gpus"
        ready = dataclasses.replace(assess(run, {}, settings, T0), servers_ready=True)
        return [o for o in plan(ready, {}, T0).create if o["kind"] == "Job"]

    multi = SETTINGS.model_copy(update={"job_managed_by": "kueue.x-k8s.io/multikueue"})
    (job,) = created_jobs(multi)
    assert job["spec"]["managedBy"] == "kueue.x-k8s.io/multikueue"
    kubernetes_validate.validate(job, K8S_VERSIONS[-1], strict=True)
    assert all("managedBy" not in j["spec"] for j in created_jobs(SETTINGS))


def test_ttl_removes_children_but_keeps_the_artifacts():
    sim = Sim(make_run(), SETTINGS)
    sim.run["spec"]["ttlSecondsAfterFinished"] = 3600
    sim.step()
    sim.servers_available()
    sim.step()
    for units in (["learn"], ["synthesize"], ["sft-dart-0", "sft-original-0"], ["evaluate"],
                  ["report"]):
        for unit in units:
            sim.job_done(unit)
        sim.step()
    assert sim.run["status"]["phase"] == "Succeeded"
    sim.step(minutes=30)
    assert sim.last_plan == Plan()
    sim.step(minutes=31)
    assert sim.names("Job") == set() and sim.names("ConfigMap") == set()
    assert sim.names("PersistentVolumeClaim") == {"demo-artifacts"}
    assert sim.step()["phase"] == "Succeeded"
    assert sim.names("Job") == set()  # a finished run never starts again


def test_a_refused_spec_still_honours_suspend():
    sim = through_learn()
    sim.job_running("synthesize")
    sim.run["spec"]["learn"]["steps"] = 500
    sim.run["spec"]["suspend"] = True
    sim.step()
    assert sim.names("Job") == {"demo-learn"} and sim.names("Deployment") == set()
    assert sim.condition("SpecRefused")["status"] == "True"
    sim.run["spec"]["suspend"] = False
    sim.step()
    assert sim.last_plan == Plan()  # resuming waits for the spec to be reverted


def oom_looping_pod(unit: str) -> dict:
    """A pod of a unit's Job (its template's labels) whose container keeps being OOM-killed."""
    return {"metadata": {"name": f"demo-{unit}-0-x1", "labels": {
                "dart.ai/run": "demo", "app.kubernetes.io/component": unit}},
            "status": {"phase": "Running", "containerStatuses": [{
                "name": "main", "restartCount": 3,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"reason": "OOMKilled"}}}]}}


def test_side_by_side_sft_units_each_carry_their_pod_hash_and_report_their_own_trouble():
    sim = through_learn()
    sim.servers_available()
    sim.step()
    sim.job_done("synthesize")
    sim.step()
    units = ("sft-dart-0", "sft-original-0")
    a = assess(sim.run, sim.children, SETTINGS, sim.now)
    for unit in units:
        job = sim.get("Job", unit)
        assert job["metadata"]["annotations"]["dart.ai/pod-hash"] == template_hash(a.ctx, unit)
        sim.job_running(unit)
    sim.children["Pod"] = {"demo-sft-original-0-0-x1": oom_looping_pod("sft-original-0")}
    sim.step()
    fine_tuned = sim.condition("FineTuned")
    assert fine_tuned["reason"] == "OOMKilled"
    assert "demo-sft-original-0-0-x1" in fine_tuned["message"]
    assert "resources.sft.memory" in fine_tuned["message"]
    assert sim.condition("Ready")["reason"] == "OOMKilled"

    sim.run["spec"]["resources"] = {"sft": {"memory": "16Gi"}}  # a Job's pods cannot follow
    sim.run["metadata"]["generation"] += 1
    sim.step()
    refused = sim.condition("SpecRefused")
    assert (refused["status"], refused["reason"]) == ("False", "AppliesOnRestart")
    assert "sft-dart-0, sft-original-0" in refused["message"]
    assert sim.last_plan.create == []  # the running units' Jobs are kept as they are
