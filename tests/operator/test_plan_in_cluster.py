"""The real kopf operator over HTTP against the fake API server: a DartRun with every arm
and ablation walks to Succeeded with exactly the plan's Jobs, its status holds the results
summary `dart run` writes, and `dart status` prints it."""

from __future__ import annotations

import copy

import pytest
from fake_apiserver import FakeApiServer
from operator_harness import NAMESPACE, fake_cluster, running_operator, wait_until
from operator_kinds import MINIMAL_SPEC, make_run

from dart.cli import main
from dart.evaluate.results import combine_seeds
from dart.summary import summarize

RUN = "demo"
pytestmark = pytest.mark.timeout(180)
EVERYTHING = {**copy.deepcopy(MINIMAL_SPEC),
              "compare": {"arms": ["sft-original", "sft-oracle", "direct-rl"],
                          "ablations": ["no-rl", "grape", "no-penalties"]},
              "evaluate": {"seeds": 2}}


def arm(*accuracies: float) -> dict:
    return combine_seeds([{"in-domain": {"accuracy": a, "correct": round(a * 50), "n": 50}}
                          for a in accuracies])


MODELS = {"base": arm(0.2), "dart": arm(0.5, 0.7), "sft-original": arm(0.3, 0.3),
          "sft-oracle": arm(0.7, 0.7), "direct-rl": arm(0.4)}
"""results.json's `models` as the evaluate unit of this run would write them."""
PLAN_JOBS = [
    "learn", "synthesize", "synth-no-rl", "synth-grape", "learn-no-penalties",
    "synth-no-penalties", "direct-rl",
    "sft-dart-0", "sft-dart-1", "sft-original-0", "sft-original-1", "sft-oracle-0",
    "sft-oracle-1", "sft-no-rl-0", "sft-no-rl-1", "sft-grape-0", "sft-grape-1",
    "sft-no-penalties-0", "sft-no-penalties-1", "evaluate", "report",
]


@pytest.fixture
def apiserver(tmp_path, monkeypatch):
    with fake_cluster(tmp_path, monkeypatch) as server:
        yield server


def play_controllers(api: FakeApiServer, summary_json: str) -> None:
    """One pass of the Deployment and Job controllers: servers roll out, Jobs complete, and
    the report's pod ends with the summary as its termination message (as `dart unit
    report --summary-file /dev/termination-log` leaves it)."""
    for deploy in api.list("Deployment", NAMESPACE):
        if (deploy.get("status") or {}).get("observedGeneration") != \
                deploy["metadata"]["generation"]:
            api.patch_status("Deployment", NAMESPACE, deploy["metadata"]["name"], {
                "observedGeneration": deploy["metadata"]["generation"], "availableReplicas": 1})
    for job in api.list("Job", NAMESPACE):
        if (job.get("status") or {}).get("conditions"):
            continue
        name = job["metadata"]["name"]
        if name == f"{RUN}-report":
            pod = f"{name}-0-x1y2z"
            api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {
                "name": pod, "namespace": NAMESPACE,
                "labels": job["spec"]["template"]["metadata"]["labels"]},
                "spec": {"containers": [{"name": "main", "image": "dart"}]}})
            api.patch_status("Pod", NAMESPACE, pod, {
                "phase": "Succeeded", "containerStatuses": [{"name": "main", "state": {
                    "terminated": {"exitCode": 0, "message": summary_json}}}]})
        api.patch_status("Job", NAMESPACE, name, {
            "succeeded": 1, "startTime": "2026-01-01T00:00:00Z",
            "completionTime": "2026-01-01T00:10:00Z",
            "conditions": [{"type": "Complete", "status": "True"}]})


def test_every_arm_and_ablation_runs_the_plans_jobs_and_reports_its_results(apiserver,
                                                                           capsys):
    api = apiserver
    summary = summarize(MODELS)
    with running_operator():
        api.create(make_run(EVERYTHING))

        def succeeded():
            play_controllers(api, summary.model_dump_json())
            run = api.get("DartRun", NAMESPACE, RUN) or {}
            return (run.get("status") or {}).get("phase") == "Succeeded"

        wait_until(succeeded, timeout=120, what="Succeeded")
        status = api.get("DartRun", NAMESPACE, RUN)["status"]
    created = [c.name for c in api.calls if c.verb == "create" and c.resource == "jobs"]
    assert sorted(created) == sorted(f"{RUN}-{unit}" for unit in PLAN_JOBS)
    assert status["results"] == summary.model_dump(mode="json")  # evaluate/results.json's
    assert status["results"]["headline"].startswith("oracle gap recovered")

    assert main(["status", RUN, "-n", NAMESPACE]) == 0
    printed = capsys.readouterr().out
    assert f"DartRun {RUN}: Succeeded" in printed
    assert all(f"  {unit} " in printed for unit in PLAN_JOBS)
    assert "headline: oracle gap recovered: in-domain 0.75 ± 0.35" in printed
    assert any(line.split() == ["dart", "0.600", "±", "0.141", "(2)"]
               for line in printed.splitlines())


def test_dart_status_names_a_missing_run_in_one_sentence(apiserver, capsys):
    assert main(["status", "nowhere", "-n", NAMESPACE]) == 2
    assert "no DartRun 'nowhere' in namespace 'research'" in capsys.readouterr().err
