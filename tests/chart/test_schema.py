"""values.schema.json is strict (a typo anywhere is an error) and values.yaml is documented."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import jsonschema
import pytest
import yaml
from chart_manifests import CHART, CI_VALUES

SCHEMA = json.loads((CHART / "values.schema.json").read_text())
VALUES_TEXT = (CHART / "values.yaml").read_text()
VALUES = yaml.safe_load(VALUES_TEXT)


def strict_objects(schema: dict, values: dict, path: tuple = ()) -> Iterator[tuple]:
    """Paths of the values mappings whose schema lists its properties."""
    if schema.get("additionalProperties") is False:
        yield path
        for key, sub in schema["properties"].items():
            if isinstance(values.get(key), dict):
                yield from strict_objects(sub, values[key], (*path, key))


def merged(base: dict, overlay: dict) -> dict:
    """Helm's merge of a values file over values.yaml: maps merge, everything else replaces."""
    out = dict(base)
    for key, value in overlay.items():
        both_maps = isinstance(value, dict) and isinstance(base.get(key), dict)
        out[key] = merged(base[key], value) if both_maps else value
    return out


@pytest.mark.parametrize("values", [VALUES, merged(VALUES, yaml.safe_load(CI_VALUES.read_text()))],
                         ids=["default", "all-on"])
def test_values_match_the_schema(values):
    jsonschema.validate(values, SCHEMA)


@pytest.mark.parametrize("path", list(strict_objects(SCHEMA, VALUES)), ids=".".join)
def test_an_unknown_key_is_rejected(path):
    values = json.loads(json.dumps(VALUES))
    target = values
    for key in path:
        target = target[key]
    target["misspelt"] = 1
    with pytest.raises(jsonschema.ValidationError, match="misspelt"):
        jsonschema.validate(values, SCHEMA)


def test_every_strict_object_is_closed():
    """additionalProperties: false wherever the properties are listed."""
    def walk(node: dict, where: str) -> Iterator[str]:
        if isinstance(node, dict):
            if "properties" in node and node.get("additionalProperties") is not False:
                if where not in {"/operator/podSecurityContext", "/operator/securityContext",
                                 "/operator/extraEnv/items"}:
                    yield where
            for key, sub in node.items():
                yield from walk(sub, f"{where}/{key}" if key not in (
                    "properties", "additionalProperties") else where)
    assert not list(walk(SCHEMA, ""))


def documented_keys(text: str) -> Iterator[tuple[str, bool]]:
    """(dotted key, documented) for every key of values.yaml: a key is documented when a
    comment sits right above it or above one of its parents."""
    stack: list[tuple[int, str, bool]] = []
    previous_is_comment = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            previous_is_comment = True
            continue
        match = re.match(r"^(\s*)([A-Za-z_][\w.-]*):", line)
        if match:
            indent = len(match.group(1))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            documented = previous_is_comment or any(d for _, _, d in stack)
            stack.append((indent, match.group(2), documented))
            yield ".".join(k for _, k, _ in stack), documented
        previous_is_comment = False


def test_every_value_is_documented():
    keys = list(documented_keys(VALUES_TEXT))
    assert len(keys) > 40
    parents = {key.rsplit(".", 1)[0] for key, _ in keys if "." in key}
    undocumented = [key for key, documented in keys if not documented and key not in parents]
    assert not undocumented, undocumented


def test_the_documentation_check_can_fail():
    text = "a:\n  # -- documented\n  b: 1\n  c: 2\n"
    assert dict(documented_keys(text)) == {"a": False, "a.b": True, "a.c": False}
    text = "# -- all of it\na:\n  b: 1\n"
    assert dict(documented_keys(text)) == {"a": True, "a.b": True}
