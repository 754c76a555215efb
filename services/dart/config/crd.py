"""Generate the DartRun CustomResourceDefinition from the pydantic models.

Pydantic emits JSON Schema 2020-12 with `$ref`s; Kubernetes wants a *structural* OpenAPI v3.0
schema: everything inlined, a `type` on every node, no `anyOf` around types, boolean
`exclusiveMinimum`, no `additionalProperties: false` next to `properties` (the API server
prunes unknown fields instead). This module does that translation and nothing else.
"""

from __future__ import annotations

from typing import Any

import yaml

from dart.config.spec import API_VERSION, KIND, MAX_RUN_NAME, RUN_NAME_PATTERN, DartRunSpec
from dart.config.status import DartRunStatus

GROUP, VERSION = API_VERSION.split("/")
PLURAL = "dartruns"

# Keys a structural schema may carry; pydantic-only keys (title, $defs, ...) are dropped.
_KEPT_KEYS = {
    "type", "description", "default", "enum", "minimum", "maximum", "minLength", "maxLength",
    "pattern", "minItems", "maxItems", "items", "properties", "required", "nullable",
    "additionalProperties", "x-kubernetes-validations", "x-kubernetes-preserve-unknown-fields",
}

PRINTER_COLUMNS = [
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Stage", "type": "string", "jsonPath": ".status.stage"},
    {"name": "Progress", "type": "integer", "jsonPath": ".status.progress.percent"},
    {"name": "Reward", "type": "number", "jsonPath": ".status.progress.rewardMean"},
    {"name": "ETA", "type": "integer", "description": "seconds left in the stage",
     "jsonPath": ".status.progress.etaSeconds"},
    {"name": "Reason", "type": "string",
     "jsonPath": '.status.conditions[?(@.type=="Ready")].reason'},
    {"name": "Result", "type": "string", "jsonPath": ".status.results.headline"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {"name": "Message", "type": "string", "priority": 1,
     "jsonPath": '.status.conditions[?(@.type=="Ready")].message'},
]

# metadata cannot carry a schema in a CRD, but a root rule may read metadata.name: the API
# server then refuses at apply a name its Services could not carry, not the operator later.
_NAME_RULES = [
    {"rule": f"self.metadata.name.size() <= {MAX_RUN_NAME}",
     "message": f"metadata.name must be at most {MAX_RUN_NAME} characters (child objects are "
                "named after it)"},
    {"rule": f"self.metadata.name.matches('{RUN_NAME_PATTERN}')",
     "message": "metadata.name must start with a letter and hold only lowercase letters, digits "
                "and '-' (the run's Services are named after it, and Service names are DNS-1035 "
                "labels)"},
]


def _resolve(node: Any, defs: dict[str, Any]) -> Any:
    """Inline `$ref`s, keeping the referring field's own description and default."""
    if isinstance(node, list):
        return [_resolve(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = dict(defs[node["$ref"].rsplit("/", 1)[-1]])
        target.update({k: v for k, v in node.items() if k != "$ref"})
        node = target
    return {key: _resolve(value, defs) for key, value in node.items()}


def _unwrap_optional(node: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, {type: null}]` (an Optional field) becomes X with `nullable: true`."""
    variants = node.get("anyOf")
    if not variants:
        return node
    concrete = [v for v in variants if v.get("type") != "null"]
    if len(concrete) != 1:
        raise ValueError(f"unions are not structural: {node}")
    merged = {**concrete[0], **{k: v for k, v in node.items() if k != "anyOf"}}
    if len(concrete) != len(variants):
        merged["nullable"] = True
    return merged


def _to_structural(node: Any) -> Any:
    if isinstance(node, list):
        return [_to_structural(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = _unwrap_optional(node)
    if "const" in node:
        node = {**node, "enum": [node["const"]]}
        node.pop("const")
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "exclusiveMinimum":
            out["minimum"], out["exclusiveMinimum"] = value, True
        elif key == "exclusiveMaximum":
            out["maximum"], out["exclusiveMaximum"] = value, True
        elif key == "properties":
            out[key] = {name: _to_structural(sub) for name, sub in value.items()}
        elif key in ("default", "x-kubernetes-validations"):
            out[key] = value  # data, not schema: copied as is
        elif key in _KEPT_KEYS:
            out[key] = _to_structural(value)
    if "enum" in out and "type" not in out:
        out["type"] = _enum_type(out["enum"])
    _fix_default(out)
    if "properties" in out:
        out.pop("additionalProperties", None)
    return out


def _enum_type(values: list[Any]) -> str:
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if all(isinstance(v, int) for v in values):
        return "integer"
    return "string"


def _fix_default(node: dict[str, Any]) -> None:
    """Null defaults are dropped; object defaults become `{}` so nested defaults apply."""
    if "default" not in node:
        return
    if node["default"] is None:
        node.pop("default")
    elif node.get("type") == "object" and "properties" in node:
        node["default"] = {}


def openapi_schema(model: type) -> dict[str, Any]:
    """Structural OpenAPI v3 schema of a pydantic model (by alias)."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    inlined = _resolve({k: v for k, v in raw.items() if k != "$defs"}, raw.get("$defs", {}))
    return _to_structural(inlined)


def _status_schema() -> dict[str, Any]:
    schema = openapi_schema(DartRunStatus)
    # kopf keeps its own bookkeeping in status; unknown keys there must survive pruning.
    schema["x-kubernetes-preserve-unknown-fields"] = True
    return schema


def crd() -> dict[str, Any]:
    """The DartRun CustomResourceDefinition."""
    root = {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": openapi_schema(DartRunSpec),
            "status": _status_schema(),
        },
        "x-kubernetes-validations": _NAME_RULES,
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": KIND.lower(),
                "shortNames": ["dr"],
                "categories": ["dart"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": root},
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": PRINTER_COLUMNS,
                }
            ],
        },
    }


def render_yaml(document: dict[str, Any]) -> str:
    """Stable YAML text, as committed in the chart."""
    header = "# Generated by `dart crd` from services/dart/config; do not edit by hand.\n"
    return header + yaml.safe_dump(document, sort_keys=False, width=100)
