"""Which Prometheus series the code defines, and which ones a PromQL expression reads.

`defined_series` scans Python sources for prometheus_client metric constructors
(`Counter("name", ...)`) and turns each into the series Prometheus stores: a Counter `x`
is scraped as `x_total`, a Histogram as `x_bucket`, `x_sum`, `x_count`, and so on. Names built
with f-strings become patterns: a placeholder bound in the same function to another string is
substituted, a placeholder from a parameter (`f"dart_{role}"`) matches one lowercase word.

`queried_metrics` returns the metric names of a PromQL expression: identifiers that are not
functions, keywords, label names or Grafana variables.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

# Series each prometheus_client type exposes, as suffixes of its base name.
SERIES_SUFFIXES = {
    "Counter": ("_total", "_created"),
    "Gauge": ("",),
    "Histogram": ("_bucket", "_sum", "_count", "_created"),
    "Summary": ("", "_sum", "_count", "_created"),
    "Info": ("_info",),
    "Enum": ("",),
}
PARAMETER_WORD = "[a-z][a-z0-9]*"

PROMQL_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
    "and", "or", "unless", "inf", "nan", "le",
}
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPINGS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_VARIABLES = re.compile(r"\$\{?\w+\}?")
_LABEL_VALUES = re.compile(r"\blabel_values\(\s*(.*?)\s*,\s*\w+\s*\)")
_IDENTIFIER = re.compile(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()")


def queried_metrics(expr: str) -> set[str]:
    """Metric names an expression selects (Grafana's label_values(expr, label) included)."""
    expr = _LABEL_VALUES.sub(r"\1", expr)
    for pattern in (_STRINGS, _MATCHERS, _RANGES, _GROUPINGS, _VARIABLES):
        expr = pattern.sub(" ", expr)
    return {
        name for name in _IDENTIFIER.findall(expr)
        if name.lower() not in PROMQL_KEYWORDS and not re.fullmatch(r"[0-9e.]+", name)
    }


def defined_series(roots: Iterable[Path]) -> list[re.Pattern[str]]:
    """Patterns of every series the Python files under `roots` define."""
    patterns = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            patterns += [_series_pattern(kind, base) for kind, base in _metric_names(tree)]
    return patterns


def is_defined(name: str, patterns: list[re.Pattern[str]]) -> bool:
    return any(pattern.fullmatch(name) for pattern in patterns)


def _series_pattern(kind: str, base: str) -> re.Pattern[str]:
    if kind == "Counter" and base.endswith("_total"):
        base = base[: -len("_total")]  # prometheus_client strips it and adds it back
    suffixes = "|".join(re.escape(s) for s in SERIES_SUFFIXES[kind])
    return re.compile(f"(?:{base})(?:{suffixes})")


def _metric_names(tree: ast.Module) -> Iterable[tuple[str, str]]:
    """(type, name regex) of every metric constructor call in a module."""
    yield from _scope_metric_names(tree, _string_bindings(tree))


def _scope_metric_names(scope: ast.AST, bindings: dict[str, ast.expr]):
    """Calls in this scope use its bindings; nested functions add their own on top."""
    for node in ast.iter_child_nodes(scope):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _scope_metric_names(node, {**bindings, **_string_bindings(node)})
            continue
        kind = _constructor(node)
        if kind and node.args:
            name = _name_regex(node.args[0], bindings, top=True)
            if name:
                yield kind, name
        yield from _scope_metric_names(node, bindings)


def _constructor(node: ast.AST) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name if name in SERIES_SUFFIXES else None


def _string_bindings(scope: ast.AST) -> dict[str, ast.expr]:
    """`name = "..."` and `a, b = "...", x` assignments directly in a module or function."""
    bindings: dict[str, ast.expr] = {}
    for stmt in getattr(scope, "body", []):
        if not isinstance(stmt, ast.Assign):
            continue
        for target in stmt.targets:
            pairs = [(target, stmt.value)]
            if isinstance(target, ast.Tuple) and isinstance(stmt.value, ast.Tuple):
                pairs = list(zip(target.elts, stmt.value.elts, strict=False))
            for name, value in pairs:
                if isinstance(name, ast.Name) and isinstance(value, ast.Constant | ast.JoinedStr):
                    bindings[name.id] = value
    return bindings


def _name_regex(node: ast.expr, bindings: dict[str, ast.expr], depth: int = 0,
                top: bool = False) -> str | None:
    """A regex for the string an expression builds, or None when it is not a string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.escape(node.value)
    if isinstance(node, ast.Name) and node.id in bindings and depth < 5:
        return _name_regex(bindings[node.id], bindings, depth + 1)
    if isinstance(node, ast.Name) and not top:
        return PARAMETER_WORD  # an f-string placeholder fed by a parameter
    if isinstance(node, ast.JoinedStr):
        parts = [
            _name_regex(v.value if isinstance(v, ast.FormattedValue) else v, bindings, depth)
            or PARAMETER_WORD
            for v in node.values
        ]
        return "".join(parts)
    return None
