"""A pure, in-memory stand-in for the API server and the Job/Deployment controllers, for
walking the desired-state functions through a run's life without any I/O."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from operator_kinds import assert_valid

from dart_operator.assess import Children, assess
from dart_operator.conditions import build_status
from dart_operator.desired import Plan, plan

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
_VALID: set[str] = set()


def assert_valid_once(obj: dict[str, Any]) -> None:
    """Every object a plan writes is valid Kubernetes; identical ones are checked once."""
    key = json.dumps(obj, sort_keys=True)
    if key not in _VALID:
        assert_valid(obj)
        _VALID.add(key)


class Sim:
    """Holds one run and its children; `step()` is one reconcile at the simulated time."""

    def __init__(self, run: dict[str, Any], settings: Any):
        self.run = run
        self.settings = settings
        self.children: Children = {}
        self.now = T0
        self.last_plan = Plan()

    def step(self, minutes: float = 1.0) -> dict[str, Any]:
        self.now += timedelta(minutes=minutes)
        a = assess(self.run, self.children, self.settings, self.now)
        self.last_plan = plan(a, self.children, self.now)
        self.apply(self.last_plan)
        status = build_status(a, self.children, self.run["metadata"]["generation"], self.now)
        self.run["status"] = status
        return status

    def apply(self, changes: Plan) -> None:
        for kind, name in changes.delete:
            del self.children[kind][name]
        for obj in changes.update + changes.create:
            assert_valid_once(obj)
            stored = copy.deepcopy(obj)
            stored["metadata"].setdefault("generation", 1)
            stored["metadata"]["resourceVersion"] = "1"
            self.children.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = stored

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        return self.children.get(kind, {}).get(f"{self.run['metadata']['name']}-{name}")

    def servers_available(self) -> None:
        for server in ("generator", "scorer"):
            obj = self.get("Deployment", server)
            obj["status"] = {"observedGeneration": 1, "availableReplicas":
                             obj["spec"]["replicas"]}

    def job_running(self, stage: str, failed: int = 0) -> None:
        self.get("Job", stage)["status"] = {"active": 1, "failed": failed,
                                            "startTime": "2026-01-01T12:00:00Z"}

    def job_done(self, stage: str) -> None:
        self.get("Job", stage)["status"] = {
            "succeeded": 1, "startTime": "2026-01-01T12:00:00Z",
            "completionTime": "2026-01-01T13:00:00Z",
            "conditions": [{"type": "Complete", "status": "True"}]}

    def job_failed(self, stage: str, reason: str, message: str = "it failed") -> None:
        self.get("Job", stage)["status"] = {
            "failed": 4, "conditions": [
                {"type": "Failed", "status": "True", "reason": reason, "message": message}]}

    def condition(self, kind: str) -> dict[str, Any]:
        return next(c for c in self.run["status"]["conditions"] if c["type"] == kind)

    def names(self, kind: str) -> set[str]:
        return set(self.children.get(kind, {}))
