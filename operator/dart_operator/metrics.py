"""Operator metrics (Prometheus), scraped from DART_METRICS_PORT; the chart's Grafana
dashboard queries exactly these names.

    dart_operator_reconciles_total{result}              success | error | conflict | refused
    dart_operator_reconcile_duration_seconds            histogram of one reconcile
    dart_operator_runs{phase}                            runs this operator sees, by phase
    dart_operator_stage_duration_seconds{stage}         histogram of finished stages (Job start
                                                         to completion)
    dart_operator_run_progress_percent{namespace,run,stage}  progress of each run's stage
    dart_operator_api_errors_total{verb,resource,code}  failed Kubernetes API calls
    dart_operator_children_changes_total{action,kind}   children created, updated, deleted
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from dart.config.status import STAGES

RECONCILES = Counter(
    "dart_operator_reconciles", "Reconciles of a DartRun, by result.", ["result"])
RECONCILE_SECONDS = Histogram(
    "dart_operator_reconcile_duration_seconds", "Time one reconcile of a DartRun takes.")
RUNS = Gauge("dart_operator_runs", "DartRuns seen by this operator, by phase.", ["phase"])
STAGE_SECONDS = Histogram(
    "dart_operator_stage_duration_seconds", "Duration of finished stages (Job start to end).",
    ["stage"], buckets=(60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200))
RUN_PROGRESS = Gauge(
    "dart_operator_run_progress_percent", "Progress of a run's current stage.",
    ["namespace", "run", "stage"])
API_ERRORS = Counter(
    "dart_operator_api_errors", "Failed Kubernetes API calls.", ["verb", "resource", "code"])
CHILD_CHANGES = Counter(
    "dart_operator_children_changes", "Children created, updated or deleted.", ["action", "kind"])

PHASES = ("Pending", "Running", "Suspended", "Succeeded", "Failed")


class PhaseBook:
    """Phase of every run, so `dart_operator_runs` counts runs rather than reconciles."""

    def __init__(self) -> None:
        self.phases: dict[tuple[str, str], str] = {}

    def record(self, key: tuple[str, str], phase: str | None) -> None:
        """A run's phase now; None forgets a deleted run, its progress series included."""
        if phase is None:
            self.phases.pop(key, None)
            forget_progress(*key)
        else:
            self.phases[key] = phase
        for name in PHASES:
            RUNS.labels(phase=name).set(sum(1 for p in self.phases.values() if p == name))


def forget_progress(namespace: str, run: str) -> None:
    for stage in STAGES:
        try:
            RUN_PROGRESS.remove(namespace, run, stage)
        except KeyError:
            pass  # that stage never reported progress


def serve(port: int) -> None:
    """Start the metrics endpoint (a daemon thread); port 0 leaves it off."""
    if port:
        start_http_server(port)
