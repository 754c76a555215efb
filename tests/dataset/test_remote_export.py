"""`export:` pushes the adapted dataset, the fine-tuned target and the report to a bucket of a
real S3-compatible server on loopback, manifest last; bad targets are one error each."""

from __future__ import annotations

import json

import pytest
from s3_server import s3  # noqa: F401 - the fixture

from dart.artifacts import Artifacts, atomic_write_text
from dart.config.spec import DartRunSpec
from dart.errors import UserError
from dart.report.export import export_products


def spec(uri: str) -> DartRunSpec:
    return DartRunSpec.model_validate({"models": {"target": {"uri": "/models/t"}},
                                       "dataset": {"synthetic": {}}, "export": {"uri": uri}})


def finished_run(root):
    layout = Artifacts(root)
    files = {"dataset/adapted.jsonl": layout.synthesize().dataset,
             "dataset/README.md": layout.synthesize().card,
             "dataset/adapted-dataset/data-00000-of-00001.arrow":
                 layout.synthesize().datasets_folder / "data-00000-of-00001.arrow",
             "model/config.json": layout.sft("dart", 0).model / "config.json",
             "model/README.md": layout.sft("dart", 0).model / "README.md",
             "report/report.md": layout.report}
    for name, path in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, f"contents of {name}\n")
    return files


def test_export_uploads_every_product_then_the_manifest(s3, tmp_path):  # noqa: F811
    _, client = s3
    client.create_bucket(Bucket="results")
    files = finished_run(tmp_path)
    manifest = export_products(spec("s3://results/runs/demo"), tmp_path, log=lambda _: None)
    listed = client.list_objects_v2(Bucket="results", Prefix="runs/demo/")["Contents"]
    keys = {o["Key"].removeprefix("runs/demo/") for o in listed}
    assert set(files) <= keys and "manifest.json" in keys
    assert set(manifest["files"]) == keys - {"manifest.json"}
    for name in files:
        body = client.get_object(Bucket="results", Key=f"runs/demo/{name}")["Body"].read()
        assert body.decode() == f"contents of {name}\n"
    stored = json.loads(client.get_object(Bucket="results", Key="runs/demo/manifest.json")
                        ["Body"].read())
    assert stored == manifest


def test_a_missing_bucket_is_one_error_and_no_manifest(s3, tmp_path):  # noqa: F811
    finished_run(tmp_path)
    with pytest.raises(UserError) as error:
        export_products(spec("s3://no-such-bucket/demo"), tmp_path, log=lambda _: None)
    assert str(error.value).startswith("export.uri: s3://no-such-bucket/demo does not exist")


def test_nothing_to_export_before_the_stages_ran(s3, tmp_path):  # noqa: F811
    with pytest.raises(UserError, match="export.uri: nothing to export yet"):
        export_products(spec("s3://results/demo"), tmp_path, log=lambda _: None)


def test_the_spec_refuses_an_export_that_is_not_a_bucket():
    with pytest.raises(ValueError):
        spec("/local/folder")
