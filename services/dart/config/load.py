"""Read a DartRun YAML file into a validated, frozen `DartRun`, or explain what is wrong.

Every user mistake becomes a `SpecError` carrying one line per problem: the field path, the
bad value, and what is allowed. Callers print those lines; nothing here prints a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from dart.config import safe_yaml
from dart.config.installed import missing_packages
from dart.config.local_models import local_model_problems
from dart.config.spec import API_VERSION, KIND, PATTERN_MEANINGS, DartRun
from dart.errors import UserError
from dart.userfiles import FileProblem, read_small_bytes


class SpecError(UserError):
    """A DartRun document that cannot be used, with one message per problem."""

    def __init__(self, source: str, problems: list[str]):
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems

    def lines(self) -> list[str]:
        return [f"{self.source}: {problem}" for problem in self.problems]


def load_dartrun(path: str | Path, *, check_local_models: bool = True) -> DartRun:
    """Load and validate a DartRun from a YAML file, and against the local models it names."""
    path = Path(path)
    dartrun = parse_dartrun(_read_yaml(path), source=str(path))
    problems = local_model_problems(dartrun.spec) if check_local_models else []
    problems += missing_packages(dartrun.spec)
    if problems:
        raise SpecError(str(path), problems)
    return dartrun


def parse_dartrun(document: Any, source: str = "<input>") -> DartRun:
    """Validate an already-parsed YAML/JSON document."""
    if not isinstance(document, dict):
        raise SpecError(source, [f"expected a DartRun mapping, got {type(document).__name__}"])
    _check_type_meta(document, source)
    try:
        return DartRun.model_validate(document)
    except ValidationError as error:
        raise SpecError(source, [_describe(e) for e in error.errors()]) from None


MAX_SPEC_BYTES = 1 << 20
"""A DartRun is a few kilobytes; anything over a mebibyte is not one (or is /dev/zero)."""


def read_yaml_document(path: Path, what: str = "DartRun YAML file") -> Any:
    """The one YAML document in `path`, parsed with bounds, or a SpecError naming the file."""
    try:
        data = read_small_bytes(path, MAX_SPEC_BYTES, what)
    except FileProblem as error:
        raise SpecError(str(path), [error.problem]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError(str(path), ["not a text file (expected UTF-8 YAML)"]) from None
    try:
        return safe_yaml.load_one(text)
    except yaml.YAMLError as error:
        if "expected exactly one YAML document" in str(error):
            raise SpecError(str(path), [str(error)]) from None
        raise SpecError(str(path), [f"invalid YAML: {_yaml_problem(error)}"]) from None
    except RecursionError:  # a bound we did not foresee; still the user's file
        raise SpecError(str(path), ["invalid YAML: nested too deeply"]) from None


def _read_yaml(path: Path) -> Any:
    document = read_yaml_document(path)
    if document is None:
        raise SpecError(str(path), ["expected exactly one YAML document, found 0"])
    return document


def _yaml_problem(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.reader.ReaderError):  # a character YAML forbids (NUL, ...)
        code = error.character if isinstance(error.character, int) else ord(error.character)
        return f"character #x{code:04x} is not allowed, at position {error.position}"
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or " ".join(str(error).split())
    if mark is None:
        return problem
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"


def _check_type_meta(document: dict, source: str) -> None:
    """A wrong apiVersion or kind means the rest cannot be interpreted: say only that."""
    problems = []
    if document.get("apiVersion") != API_VERSION:
        got = document.get("apiVersion", "<missing>")
        problems.append(f"apiVersion: {got!r} is not supported; use {API_VERSION!r}")
    if document.get("kind") != KIND:
        problems.append(f"kind: {document.get('kind', '<missing>')!r} is not {KIND!r}")
    if problems:
        raise SpecError(source, problems)


def _describe(error: dict) -> str:
    """One line: `field.path: bad value -> what is allowed`."""
    location = list(error["loc"])
    path = _dotted(location)
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(_allowed_fields(location[:-1]))
        return f"{path}: unknown field; allowed fields here: {allowed}"
    if error["type"] == "missing":
        return f"{path}: required field is missing"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "string_pattern_mismatch":
        message = PATTERN_MEANINGS.get(error["ctx"]["pattern"], message)
    value = error.get("input")
    if isinstance(value, (dict, list)) or error["type"] == "value_error":
        return f"{path}: {message}"
    return f"{path}: {value!r} is invalid: {message}"


def _dotted(location: list) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<document>"


def _allowed_fields(location: list) -> list[str]:
    """Field names (camelCase) of the model found by walking `location` from DartRun."""
    model: type[BaseModel] | None = DartRun
    for part in location:
        if model is None or isinstance(part, int):
            continue
        model = _field_model(model, part)
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _field_model(model: type[BaseModel], alias: str) -> type[BaseModel] | None:
    for name, field in model.model_fields.items():
        if alias in (name, field.alias):
            return _first_model_in(field.annotation)
    return None


def _first_model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _first_model_in(arg)
        if found is not None:
            return found
    return None
