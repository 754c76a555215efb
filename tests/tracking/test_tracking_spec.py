"""`tracking:` in the spec: a tracker whose package is missing is one error naming the field
at `dart validate` (exit 2), before any stage; the bad-spec corpus covers unknown backends
and bad MLflow URIs."""

from __future__ import annotations

import sys

import pytest
import yaml

from dart.cli import main
from dart.errors import UserError
from dart.tracking import open_tracker

DARTRUN = {"apiVersion": "dart.ai/v1alpha1", "kind": "DartRun", "metadata": {"name": "demo"},
           "spec": {"models": {"target": {"uri": "./tiny-models/target"}},
                    "dataset": {"synthetic": {}}}}


def write_spec(tmp_path, tracking: dict):
    document = {**DARTRUN, "spec": {**DARTRUN["spec"], "tracking": tracking}}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize(("backend", "module", "package"), [
    ("mlflow", "mlflow", "mlflow-skinny"), ("wandb", "wandb", "wandb"),
    ("tensorboard", "tensorboardX", "tensorboardX")])
def test_a_tracker_that_is_not_installed_is_one_error_at_validate(tmp_path, capsys,
                                                                   monkeypatch, backend,
                                                                   module, package):
    monkeypatch.setitem(sys.modules, module, None)  # what `import` sees when it is absent
    assert main(["validate", str(write_spec(tmp_path, {"backend": backend}))]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"error: {tmp_path / 'run.yaml'}: spec.tracking.backend: {backend} needs the "
        f"{package} package, which is not installed here: pip install 'dart-adapt[tracking]'"]


def test_validate_prints_the_tracking_defaults(tmp_path, capsys):
    assert main(["validate", str(write_spec(tmp_path, {"backend": "wandb"}))]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)["spec"]["tracking"]
    assert printed["wandb"] == {"project": "dart", "entity": None, "mode": "online"}
    assert printed["mlflow"] == {"trackingUri": None, "experiment": None}


def test_an_mlflow_server_that_does_not_answer_is_one_error_naming_the_uri(tmp_path,
                                                                           monkeypatch):
    from s3_server import free_port  # a port nobody listens on

    from dart.config.load import load_dartrun

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    uri = f"http://127.0.0.1:{free_port()}"
    spec = load_dartrun(write_spec(tmp_path, {"backend": "mlflow",
                                              "mlflow": {"trackingUri": uri}})).spec
    with pytest.raises(UserError) as error:
        open_tracker(spec, tmp_path, "learn")
    assert str(error.value).startswith(f"spec.tracking.mlflow.trackingUri: cannot record in "
                                       f"{uri}: ")
