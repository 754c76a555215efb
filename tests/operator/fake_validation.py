"""What a real API server rejects with 422 before storing an object: bad names, objects that
do not match their schema (built-in kinds, strict: unknown fields are errors) and DartRuns that
do not match the committed CRD. Messages follow the API server's wording."""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from crd_rules import apply_defaults, cel_violations

CRD = Path(__file__).resolve().parents[2] / "charts/dart/crds/dartruns.dart.ai.yaml"
K8S_VERSION = "1.29"
SCHEMA_CHECKED = {"ConfigMap", "PersistentVolumeClaim", "Service", "Deployment", "Job",
                  "NetworkPolicy", "Pod", "PodDisruptionBudget"}

DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

# kind -> (rule name, pattern, max length); Services need DNS-1035 (their name is a DNS
# label that must not look like a number), Jobs a label (the job-name label carries it).
NAME_RULES = {
    "Service": ("DNS-1035 label", DNS1035_LABEL, 63),
    "Job": ("DNS-1123 label", DNS1123_LABEL, 63),
}
DEFAULT_NAME_RULE = ("DNS-1123 subdomain", DNS1123_SUBDOMAIN, 253)


def name_problem(kind: str, name: str) -> str | None:
    rule, pattern, longest = NAME_RULES.get(kind, DEFAULT_NAME_RULE)
    if len(name) > longest:
        return f"must be no more than {longest} characters"
    if not pattern.match(name):
        start = "an alphabetic" if rule == "DNS-1035 label" else "an alphanumeric"
        return (f"a {rule} must consist of lower case alphanumeric characters or '-', start "
                f"with {start} character, and end with an alphanumeric character "
                f"(regex used for validation is '{pattern.pattern}')")
    return None


@functools.cache
def dartrun_schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


@functools.cache
def dartrun_validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(_nullable_to_jsonschema(dartrun_schema()))


def dartrun_problem(obj: dict[str, Any]) -> str | None:
    """The schema first, then (on the defaulted object) the CRD's CEL rules, as the API server
    orders them."""
    error = jsonschema.exceptions.best_match(dartrun_validator().iter_errors(obj))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "<root>"
        return f"{where}: {error.message}"
    broken = cel_violations(dartrun_schema(), apply_defaults(dartrun_schema(), copy.deepcopy(obj)))
    return f"<root>: Invalid value: {broken[0]}" if broken else None


def _nullable_to_jsonschema(node: Any) -> Any:
    """OpenAPI's `nullable: true` is JSON Schema's `type: [T, "null"]`."""
    if isinstance(node, list):
        return [_nullable_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable_to_jsonschema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") and "type" in node:
        out["type"] = [node["type"], "null"]
    return out


def schema_problem(obj: dict[str, Any]) -> str | None:
    kind = obj.get("kind")
    if kind == "DartRun":
        return dartrun_problem(obj)
    if kind not in SCHEMA_CHECKED:
        return None
    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(p) for p in error.path) or "<root>"
        return f"{where}: {error.message}"
    return None


def invalid_reason(obj: dict[str, Any]) -> str | None:
    """The API server's 422 message for an object it would not store, or None."""
    kind, meta = obj.get("kind", "?"), obj.get("metadata", {})
    name = meta.get("name") or ""
    if (name or not meta.get("generateName")) and (why := name_problem(kind, name)):
        return f'{kind} "{name}" is invalid: metadata.name: Invalid value: "{name}": {why}'
    if why := schema_problem(obj):
        return f'{kind} "{name}" is invalid: {why}'
    return None
