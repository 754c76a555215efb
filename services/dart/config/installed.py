"""Checks that this machine has the optional packages a spec asks for, so `dart validate`
(and every command that reads a spec file) says so before any stage starts."""

from __future__ import annotations

import importlib.util

from dart.config.spec import DartRunSpec

TRACKING_FIELD = "spec.tracking.backend"
TRACKING_PACKAGES = {"tensorboard": ("tensorboardX", "tensorboardX"),
                     "mlflow": ("mlflow", "mlflow-skinny"), "wandb": ("wandb", "wandb")}
"""backend -> (the module it imports, the package that provides it)."""


def missing_packages(spec: DartRunSpec) -> list[str]:
    """One line per optional package the spec needs and this environment lacks."""
    if spec.tracking is None:
        return []
    module, package = TRACKING_PACKAGES[spec.tracking.backend]
    if importlib.util.find_spec(module) is not None:
        return []
    return [f"{TRACKING_FIELD}: {spec.tracking.backend} needs the {package} package, which "
            "is not installed here: pip install 'dart-adapt[tracking]'"]
