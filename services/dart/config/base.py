"""The base every DartRun spec model derives from: strict, frozen, camelCase, CEL-checked.

Cross-field rules are written once, in CEL (the Kubernetes API server's rule language), as
`CelRule`s on a model. The same expressions land in the CRD as `x-kubernetes-validations`
(enforced by the API server) and are evaluated here with cel-python when a spec is loaded
(enforced by `dart validate` and `dart run`), so the cluster and one machine never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

import celpy
from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.alias_generators import to_camel


@dataclass(frozen=True)
class CelRule:
    """One Kubernetes-style validation rule over the object it is attached to (`self`)."""

    rule: str
    """CEL expression that must be true."""
    message_expression: str
    """CEL expression building the error message; it names the field, the value, what is allowed."""
    field_path: str = ""
    """JSONPath (from `self`) of the field the error is about, e.g. `.checkpointEvery`."""

    def as_schema(self) -> dict[str, str]:
        entry = {"rule": self.rule, "messageExpression": self.message_expression}
        if self.field_path:
            entry["fieldPath"] = self.field_path
        return entry


@cache
def _program(expression: str) -> celpy.Runner:
    env = celpy.Environment()
    return env.program(env.compile(expression))


def evaluate_cel(expression: str, obj: dict[str, Any]) -> Any:
    """Evaluate a CEL expression with `self` bound to a JSON-like object."""
    return _program(expression).evaluate({"self": celpy.json_to_cel(obj)})


class SpecModel(BaseModel):
    """Strict by design: unknown keys are errors, values are frozen after validation."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        use_attribute_docstrings=True,
        validate_default=True,
    )
    cel_rules: ClassVar[tuple[CelRule, ...]] = ()

    @model_validator(mode="after")
    def _check_cel_rules(self) -> SpecModel:
        if not self.cel_rules:
            return self
        # The API server sees the object with defaults applied and absent optionals omitted.
        as_seen_by_server = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        for rule in self.cel_rules:
            if not bool(evaluate_cel(rule.rule, as_seen_by_server)):
                raise ValueError(str(evaluate_cel(rule.message_expression, as_seen_by_server)))
        return self

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema, handler):  # noqa: ANN001
        schema = handler(core_schema)
        if cls.cel_rules and "x-kubernetes-validations" not in schema:
            target = handler.resolve_ref_schema(schema)
            target["x-kubernetes-validations"] = [r.as_schema() for r in cls.cel_rules]
        return schema
