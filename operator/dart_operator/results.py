"""The run's findings for its status: the report unit's pod ends with the results summary
as its termination message (the operator cannot read the artifacts volume), parsed with
the one schema `dart run` writes into evaluate/results.json (dart.config.status)."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from dart.config.status import ResultsSummary
from dart_operator import naming
from dart_operator.pods import MAIN_CONTAINER

REPORT_UNIT = "report"
log = logging.getLogger(__name__)


def _terminated_message(pod: dict[str, Any]) -> str | None:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        done = (status.get("state") or {}).get("terminated") or {}
        if status.get("name") == MAIN_CONTAINER and done.get("exitCode") == 0:
            return done.get("message")
    return None


def report_summary(pods: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The summary the report pod left, as status JSON; None until one succeeded."""
    for pod in pods.values():
        labels = pod.get("metadata", {}).get("labels") or {}
        if labels.get("app.kubernetes.io/component") != REPORT_UNIT:
            continue
        if labels.get(naming.STAGE_LABEL) != REPORT_UNIT:
            continue
        message = _terminated_message(pod)
        if not message:
            continue
        try:
            return ResultsSummary.model_validate_json(message).model_dump(mode="json")
        except ValidationError as error:  # a pod we did not write, or a truncated message
            log.warning("report pod %s left no readable summary: %s",
                        pod["metadata"].get("name"), error)
    return None
