"""What the image checks read from Dockerfiles, requirement files and Python imports."""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "images"
DOCKERFILES = sorted(IMAGES.glob("*/Dockerfile"))


@dataclass
class Stage:
    """One FROM ... block: its base image (ARG defaults filled in) and its instructions."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def arguments(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) pairs, with continuation lines joined and comments dropped."""
    logical, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending += " " + stripped.rstrip("\\").strip()
        if not stripped.endswith("\\"):
            logical.append(pending.strip())
            pending = ""
    return [(ln.split(None, 1)[0].upper(), (ln.split(None, 1) + [""])[1]) for ln in logical]


def stages(path: Path) -> list[Stage]:
    """The build stages of a Dockerfile, in order."""
    args: dict[str, str] = {}
    found: list[Stage] = []
    for keyword, rest in instructions(path.read_text()):
        if keyword == "ARG" and "=" in rest:
            name, value = rest.split("=", 1)
            args.setdefault(name.strip(), value.strip().strip('"'))
        if keyword == "FROM":
            words = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), words[0])
            alias = words[2] if len(words) > 2 and words[1].upper() == "AS" else None
            found.append(Stage(base=base, name=alias))
        elif found:
            found[-1].instructions.append((keyword, rest))
    return found


def pinned_requirements(path: Path) -> dict[str, str]:
    """name -> version of a requirements file; any line that is not `name==version` fails."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)", line)
        assert match, f"{path.name}: {line!r} is not pinned as name==version"
        pins[normalize(match.group(1))] = match.group(2)
    return pins


def normalize(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    return normalize(re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0])


def requirement_pin(spec: str) -> str | None:
    match = re.search(r"==\s*([A-Za-z0-9.+!-]+)", spec)
    return match.group(1) if match else None


# ----------------------------------------------------------------------------- imports

PACKAGE_ROOTS = {"dart": REPO / "services" / "dart", "dart_operator": REPO / "operator" /
                 "dart_operator"}


def module_file(module: str) -> Path | None:
    """Source file of a first-party module, or None for anything else."""
    top, *rest = module.split(".")
    if top not in PACKAGE_ROOTS:
        return None
    base = PACKAGE_ROOTS[top].joinpath(*rest)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path) -> set[str]:
    """Absolute names of every module a file imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _package_of(path)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, package)
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def _package_of(path: Path) -> str:
    for top, root in PACKAGE_ROOTS.items():
        if path.is_relative_to(root):
            parts = path.relative_to(root).with_suffix("").parts
            parts = parts[:-1]  # the module's own package
            return ".".join([top, *parts])
    return ""


def _resolve(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join(parent + ([node.module] if node.module else []))


def import_closure(start: list[Path]) -> tuple[set[Path], set[str]]:
    """First-party files reachable from `start` (with their packages' __init__ files) and the
    third-party top-level modules they import."""
    files, third_party, todo = set(), set(), list(start)
    while todo:
        path = todo.pop()
        if path in files:
            continue
        files.add(path)
        for module in imported_modules(path):
            parts = module.split(".")
            for depth in range(1, len(parts) + 1):
                found = module_file(".".join(parts[:depth]))
                if found:
                    todo.append(found)
            if parts[0] not in PACKAGE_ROOTS and parts[0] not in sys.stdlib_module_names:
                third_party.add(parts[0])
    return files, third_party


def distributions_of(module: str) -> set[str]:
    """Installed distributions that provide a top-level module."""
    return {normalize(d) for d in packages_distributions().get(module, [])}
