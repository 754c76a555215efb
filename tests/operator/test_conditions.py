"""Status and condition logic: phases, Ready, transition times, events."""

from __future__ import annotations

from datetime import timedelta

from operator_kinds import SETTINGS, make_run
from operator_sim import T0, Sim

from dart_operator.assess import assess
from dart_operator.conditions import CONDITION_TYPES, build_status, stamp, transitions


def status_of(run, children=None, now=T0):
    a = assess(run, children or {}, SETTINGS, now)
    return build_status(a, children or {}, run["metadata"]["generation"], now)


def test_every_condition_type_is_always_present_with_the_generation():
    status = status_of(make_run(generation=7))
    assert [c["type"] for c in status["conditions"]] == list(CONDITION_TYPES)
    assert {c["observedGeneration"] for c in status["conditions"]} == {7}
    assert status["observedGeneration"] == 7
    assert all(c["status"] in ("True", "False") and c["reason"] for c in status["conditions"])


def test_transition_time_moves_only_when_the_status_flips():
    old = [{"type": "Learned", "status": "False", "reason": "Running",
            "lastTransitionTime": "2026-01-01T00:00:00Z"}]
    later = T0 + timedelta(hours=1)
    same = stamp([{"type": "Learned", "status": "False", "reason": "Queued"}], old, later, 2)
    assert same[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    flipped = stamp([{"type": "Learned", "status": "True", "reason": "Completed"}], old, later, 2)
    assert flipped[0]["lastTransitionTime"] == "2026-01-01T13:00:00Z"


def test_a_new_run_announces_its_phase_not_every_false_condition():
    events = transitions({}, status_of(make_run()))
    assert events == [("Normal", "Phase", "New -> Pending")]


def test_each_flip_is_one_event_and_failures_are_warnings():
    sim = Sim(make_run(), SETTINGS)
    first = sim.step()
    sim.servers_available()
    second = sim.step()
    assert ("Normal", "ServersReady") in [(t, r) for t, r, _ in transitions(first, second)]
    assert transitions(second, second) == []
    sim.job_failed("learn", "PodFailurePolicy", "exit code 2")
    failed = sim.step()
    events = transitions(second, failed)
    assert ("Warning", "Failed") in [(t, r) for t, r, _ in events]
    assert ("Normal", "Phase", "Pending -> Failed") in events


def test_ready_explains_what_the_run_waits_for():
    sim = Sim(make_run(), SETTINGS)
    sim.step()
    ready = sim.condition("Ready")
    assert (ready["status"], ready["reason"]) == ("False", "Pending")
    assert ready["message"] == "stage learn"


def test_learner_progress_is_kept_between_polls_and_dropped_after_the_stage():
    sim = Sim(make_run(), SETTINGS)
    sim.step()
    sim.servers_available()
    sim.step()
    sim.job_running("learn")
    a = assess(sim.run, sim.children, SETTINGS, sim.now)
    polled = build_status(a, sim.children, 1, sim.now, learner={"step": 5, "total": 10,
                                                                 "percent": 50})
    sim.run["status"] = polled
    assert polled["progress"]["percent"] == 50
    assert "at 50%" in next(c for c in polled["conditions"] if c["type"] == "Ready")["message"]
    kept = status_of(sim.run, sim.children, sim.now)
    assert kept["progress"] == {"step": 5, "total": 10, "percent": 50}
    sim.job_done("learn")
    assert sim.step()["progress"] == {"step": 0, "total": 1, "percent": 0}


def test_restarts_count_job_retries_and_container_restarts():
    sim = Sim(make_run(), SETTINGS)
    sim.step()
    sim.servers_available()
    sim.step()
    sim.job_running("learn", failed=2)
    sim.children["Pod"] = {"demo-scorer-abc": {"status": {"containerStatuses": [
        {"restartCount": 3}]}}}
    assert sim.step()["restarts"] == 5


def test_a_finished_run_keeps_its_status_and_only_follows_the_generation():
    sim = Sim(make_run(), SETTINGS)
    sim.run["status"] = {"phase": "Succeeded", "completionTime": "2026-01-01T00:00:00Z",
                         "conditions": [{"type": "Ready", "status": "True"}]}
    sim.run["metadata"]["generation"] = 3
    status = sim.step()
    assert status["phase"] == "Succeeded" and status["observedGeneration"] == 3
    assert sim.children == {}


def test_the_status_uses_exactly_the_fields_of_the_crd_status_model():
    from dart.config.crd import PRINTER_COLUMNS
    from dart.config.status import Condition, DartRunStatus, StageProgress

    def aliases(model):
        return {field.alias or name for name, field in model.model_fields.items()}

    sim = Sim(make_run(), SETTINGS)
    sim.step()
    sim.servers_available()
    sim.step()
    sim.job_done("learn")
    status = sim.step()
    assert set(status) <= aliases(DartRunStatus)
    assert all(set(c) <= aliases(Condition) for c in status["conditions"])
    assert set(status["progress"]) <= aliases(StageProgress)
    DartRunStatus.model_validate(status)
    for column in PRINTER_COLUMNS:
        path = column["jsonPath"].split("[")[0].split(".")[1:]
        if path[0] == "status":
            assert path[1] in aliases(DartRunStatus), column
