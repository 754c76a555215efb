"""How an API server applies a CRD's structural defaults and its CEL rules
(`x-kubernetes-validations`) to an object: shared by the CRD tests and the fake API server."""

from __future__ import annotations

import yaml

from dart.config.base import evaluate_cel


def apply_defaults(node: dict, value):
    """Structural defaulting as the API server does it: absent fields get their `default`,
    and integers in `number` fields become doubles (as CEL sees them)."""
    if node.get("type") == "number" and isinstance(value, int):
        return float(value)
    if isinstance(value, dict) and "properties" in node:
        for name, sub in node["properties"].items():
            if name not in value and "default" in sub:
                value[name] = yaml.safe_load(yaml.safe_dump(sub["default"]))
            if name in value:
                value[name] = apply_defaults(sub, value[name])
    elif isinstance(value, list) and "items" in node:
        return [apply_defaults(node["items"], item) for item in value]
    return value


def cel_violations(node: dict, value) -> list[str]:
    """Evaluate every x-kubernetes-validations rule where the object has a value."""
    found = []
    for rule in node.get("x-kubernetes-validations", []):
        if not evaluate_cel(rule["rule"], value):
            found.append(rule.get("message") or str(evaluate_cel(rule["messageExpression"], value)))
    if isinstance(value, dict):
        for name, sub in node.get("properties", {}).items():
            if name in value:
                found += cel_violations(sub, value[name])
    if isinstance(value, list) and "items" in node:
        for item in value:
            found += cel_violations(node["items"], item)
    return found
