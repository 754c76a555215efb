"""The CRD is generated from the spec models, committed in the chart, and agrees with them."""

from pathlib import Path

import jsonschema
import pytest
import yaml
from crd_rules import apply_defaults, cel_violations

from dart.config.crd import crd, render_yaml
from dart.config.load import load_dartrun

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "charts/dart/crds/dartruns.dart.ai.yaml"
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
BAD = REPO / "tests/data/bad_specs"
# Broken specs that only a cross-field (CEL) rule can catch.
CEL_ONLY_BAD_SPECS = [
    "checkpoint-after-end", "parallelism-over-shards", "clip-inverted", "length-band-inverted",
    "two-dataset-sources", "no-dataset-source", "token-secret-on-local-model",
    "eval-set-both-sources", "eval-set-duplicate-names", "oracle-without-synthetic",
    "export-token-secret-on-bucket",
]


def schema() -> dict:
    return crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def validator() -> jsonschema.Draft4Validator:
    """OpenAPI v3.0 is Draft 4 plus `nullable`, which Draft 4 spells as a type union."""

    def translate(node):
        if isinstance(node, list):
            return [translate(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: translate(value) for key, value in node.items() if key != "default"}
        if node.get("nullable") and "type" in node:
            out["type"] = [node["type"], "null"]
        return out

    return jsonschema.Draft4Validator(translate(schema()))


def as_applied(path: Path) -> dict:
    return apply_defaults(schema(), yaml.safe_load(path.read_text()))


def test_committed_crd_equals_generated():
    assert COMMITTED.read_text() == render_yaml(crd()), "run: dart crd > " + str(COMMITTED)


def test_crd_is_structural():
    def walk(node, where):
        if "properties" in node or "items" in node or "enum" in node:
            assert "type" in node, f"{where} has no type"
        assert "anyOf" not in node and "$ref" not in node and "oneOf" not in node, where
        for name, sub in node.get("properties", {}).items():
            walk(sub, f"{where}.{name}")
        if "items" in node:
            walk(node["items"], f"{where}[]")

    walk(schema()["properties"]["spec"], "spec")


def test_every_spec_field_is_documented():
    def walk(node, where):
        for name, sub in node.get("properties", {}).items():
            assert sub.get("description"), f"{where}.{name} has no description"
            walk(sub, f"{where}.{name}")
        if "items" in node:
            walk(node["items"], f"{where}[]")

    walk(schema()["properties"]["spec"], "spec")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_pass_the_crd_schema_and_its_cel_rules(path):
    document = as_applied(path)
    validator().validate(document)
    assert cel_violations(schema(), document) == []


@pytest.mark.parametrize("name", CEL_ONLY_BAD_SPECS)
def test_cel_rules_in_the_crd_reject_what_dart_validate_rejects(name):
    path = BAD / f"{name}.yaml"
    document = as_applied(path)
    validator().validate(document)  # the schema alone lets it through
    violations = cel_violations(schema(), document)
    assert violations, f"{name} passes the CRD's CEL rules"
    expected = path.read_text().splitlines()[0].split(": ", 2)[-1]
    assert expected in violations


def test_schema_rejects_a_field_constraint_violation():
    document = as_applied(EXAMPLES[0])
    document["spec"]["learn"]["groupSize"] = 1
    with pytest.raises(jsonschema.ValidationError):
        validator().validate(document)


def test_defaults_in_crd_match_the_models():
    """A field left out means the same in the cluster (CRD default) and locally (pydantic)."""
    local = load_dartrun(EXAMPLES[0]).model_dump(mode="json", by_alias=True, exclude_none=True)
    local = local["spec"]
    applied = as_applied(EXAMPLES[0])["spec"]

    def compare(a, b, where):
        for key, value in b.items():  # everything the API server filled in
            assert key in a, where + key
            if isinstance(value, dict):
                compare(a[key], value, f"{where}{key}.")
            else:
                assert a[key] == value, f"{where}{key}: {a[key]!r} != {value!r}"

    compare(local, applied, "spec.")


def test_printer_columns_point_at_status_fields():
    columns = crd()["spec"]["versions"][0]["additionalPrinterColumns"]
    assert [c["name"] for c in columns] == ["Phase", "Stage", "Progress", "Reward", "ETA",
                                            "Reason", "Result", "Age", "Message"]
    status = schema()["properties"]["status"]
    for column in columns:
        if column["type"] == "date":
            continue
        node = {"properties": {"status": status}}
        path = column["jsonPath"].replace('[?(@.type=="Ready")]', ".[]")
        for part in path.strip(".").split("."):
            node = node["items"] if part == "[]" else node["properties"][part]
        assert node["type"] == column["type"], column


@pytest.mark.parametrize("name, refused", [("run-1", False), ("1run", True), ("run-", True),
                                           ("r" * 40, False), ("r" * 41, True)])
def test_the_crd_refuses_run_names_its_services_could_not_carry(name, refused):
    document = as_applied(EXAMPLES[0])
    document["metadata"]["name"] = name
    violations = cel_violations(schema(), document)
    assert bool(violations) == refused, violations
