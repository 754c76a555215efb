"""`export: {uri: hf://ORG/NAME}` pushes the adapted dataset to the dataset repo ORG/NAME and
the fine-tuned target, the report and the manifest to the model repo ORG/NAME, through
huggingface_hub against a loopback double of the hub's upload API (tests/hub_server.py);
no token, a refused token or a namespace it may not write to is one error naming the field."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request

import pytest
from hub_server import LFS_THRESHOLD, READER_TOKEN, WRITER_TOKEN, hub  # noqa: F401 - the fixture
from test_remote_export import finished_run, spec

from dart.artifacts import Artifacts
from dart.errors import UserError
from dart.report.export import export_products

URI = "hf://dart-lab/gsm-adapted"
REPO = "dart-lab/gsm-adapted"


def with_binary_products(root) -> dict[str, bytes]:
    """A finished run (test_remote_export's) plus what makes the hub use LFS: binary weights,
    a parquet file and a text file of 10 MB."""
    products = {name: path.read_bytes() for name, path in finished_run(root).items()}
    layout = Artifacts(root)
    extra = {"model/model.safetensors": (layout.sft("dart", 0).model / "model.safetensors",
                                         bytes(range(256)) * 64),
             "dataset/adapted.parquet": (layout.synthesize().parquet, b"PAR1\x00\x01parquet"),
             "model/tokenizer.json": (layout.sft("dart", 0).model / "tokenizer.json",
                                      b'{"v": "' + b"a" * LFS_THRESHOLD + b'"}')}
    for name, (path, content) in extra.items():
        path.write_bytes(content)
        products[name] = content
    return products


def test_export_pushes_the_dataset_repo_then_the_model_repo_with_the_manifest(hub, tmp_path):  # noqa: F811
    products = with_binary_products(tmp_path)
    manifest = export_products(spec(URI), tmp_path, log=lambda _: None)
    dataset, model = hub.repos["dataset", REPO], hub.repos["model", REPO]
    for name, content in products.items():
        product, _, rest = name.partition("/")
        where = {"dataset": (dataset, rest), "model": (model, rest),
                 "report": (model, f"report/{rest}")}[product]
        assert where[0].files[where[1]] == content, name
    assert dataset.files["README.md"] == products["dataset/README.md"]  # the dataset card
    assert model.files["README.md"] == products["model/README.md"]  # the model card
    assert json.loads(model.files["manifest.json"]) == manifest
    assert manifest["files"] == {name: len(content) for name, content in products.items()}
    assert manifest["locations"] == {"dataset": f"hf://datasets/{REPO}", "model": URI,
                                     "report": f"{URI}/report"}
    # Binary and large files went through LFS (the hub refuses them as regular files).
    assert {"model.safetensors", "tokenizer.json"} <= model.lfs_paths
    assert dataset.lfs_paths == {"adapted.parquet", "adapted-dataset/data-00000-of-00001.arrow"}
    assert "config.json" not in model.lfs_paths
    # One commit each, the dataset first: the model repo's commit carries the manifest.
    assert [len(r.commits) for r in (dataset, model)] == [1, 1]
    order = [p for m, p in hub.requests if m == "POST" and "/commit/" in p]
    assert order == [f"/api/datasets/{REPO}/commit/main", f"/api/models/{REPO}/commit/main"]
    assert "manifest.json" in model.commits[0]["paths"]
    assert dataset.private and model.private


def test_a_second_export_of_the_same_products_commits_nothing(hub, tmp_path):  # noqa: F811
    with_binary_products(tmp_path)
    export_products(spec(URI), tmp_path, log=lambda _: None)
    uploads = sum(1 for m, _ in hub.requests if m == "PUT")
    export_products(spec(URI), tmp_path, log=lambda _: None)
    assert [len(hub.repos[k, REPO].commits) for k in ("dataset", "model")] == [1, 1]
    assert sum(1 for m, _ in hub.requests if m == "PUT") == uploads


def test_no_token_is_one_error_naming_the_field_and_hf_token(hub, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.delenv("HF_TOKEN")
    finished_run(tmp_path)
    with pytest.raises(UserError) as error:
        export_products(spec(URI), tmp_path, log=lambda _: None)
    assert str(error.value) == (
        "export.uri: pushing to hf://dart-lab/gsm-adapted needs a hub token that may write "
        "to dart-lab: set HF_TOKEN (in a cluster, export.tokenSecret)")
    assert hub.requests == []  # refused before anything is sent


def test_a_token_the_hub_does_not_know_is_refused_and_nothing_is_created(hub, tmp_path,  # noqa: F811
                                                                        monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_revoked")
    finished_run(tmp_path)
    with pytest.raises(UserError, match=r"^export.uri: the hub refused the token for "
                       r"hf://datasets/dart-lab/gsm-adapted \(401\).*HF_TOKEN"):
        export_products(spec(URI), tmp_path, log=lambda _: None)
    assert hub.repos == {}


def test_a_namespace_the_token_may_not_write_to_is_one_error(hub, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("HF_TOKEN", READER_TOKEN)
    finished_run(tmp_path)
    with pytest.raises(UserError, match=r"^export.uri: the token may not write to "
                       r"hf://datasets/dart-lab/gsm-adapted \(403\)"):
        export_products(spec(URI), tmp_path, log=lambda _: None)
    assert hub.repos == {}


def test_offline_mode_is_one_error_before_anything_is_sent(hub, tmp_path, monkeypatch):  # noqa: F811
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    finished_run(tmp_path)
    with pytest.raises(UserError, match="export.uri: cannot push to .* HF_HUB_OFFLINE=1"):
        export_products(spec(URI), tmp_path, log=lambda _: None)
    assert hub.requests == []


def test_an_unreachable_hub_is_one_error_naming_the_endpoint(hub, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: nothing listens
    finished_run(tmp_path)
    with pytest.raises(UserError, match="export.uri: cannot reach the hub .*HF_ENDPOINT"):
        export_products(spec(URI), tmp_path, log=lambda _: None)


@pytest.mark.parametrize("uri", ["hf://datasets/dart-lab/gsm", "hf://gsm-adapted",
                                 "hf://dart-lab/gsm@main", "hf://dart-lab/gsm/sub"])
def test_the_spec_takes_only_a_repo_id_for_the_hub(uri):
    """A dataset repo, a bare name, a revision or a folder: the layout is fixed (the
    message users see is checked in tests/data/bad_specs/export-hub-dataset-uri.yaml)."""
    with pytest.raises(ValueError, match="export.uri"):
        spec(uri)


# The double refuses what the hub refuses: were it lenient, the push above could be wrong and
# pass. Raw requests, as huggingface_hub would send them if its upload path went astray.

def send(hub, method: str, path: str, body, token: str | None = WRITER_TOKEN,  # noqa: F811
         content_type: str = "application/json") -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else (
        b"".join(json.dumps(line).encode() + b"\n" for line in body)
        if content_type == "application/x-ndjson" else json.dumps(body).encode())
    request = urllib.request.Request(f"{hub.base}{path}", data=data, method=method,
                                     headers={"Content-Type": content_type,
                                              **({"Authorization": f"Bearer {token}"}
                                                 if token else {})})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {"error": json.loads(error.read())["error"],
                            "code": error.headers.get("X-Error-Code")}


def commit_lines(*ops: dict) -> list[dict]:
    return [{"key": "header", "value": {"summary": "test", "description": ""}}, *ops]


def lfs_file(content: bytes, size: int | None = None) -> dict:
    return {"key": "lfsFile", "value": {"path": "model.safetensors", "algo": "sha256",
                                        "oid": hashlib.sha256(content).hexdigest(),
                                        "size": len(content) if size is None else size}}


@pytest.fixture
def repo(hub):  # noqa: F811
    status, _ = send(hub, "POST", "/api/repos/create", {"name": "m", "organization": "dart-lab"})
    assert status == 200
    return "/api/models/dart-lab/m/commit/main"


def test_the_double_refuses_an_lfs_file_whose_object_was_never_uploaded(hub, repo):  # noqa: F811
    status, answer = send(hub, "POST", repo, commit_lines(lfs_file(b"\x00weights")),
                          content_type="application/x-ndjson")
    assert (status, "never uploaded" in answer["error"]) == (400, True)
    assert hub.repos["model", "dart-lab/m"].commits == []


def test_the_double_refuses_bytes_that_are_not_the_announced_object(hub, repo):  # noqa: F811
    weights = b"\x00weights"
    oid = hashlib.sha256(weights).hexdigest()
    status, batch = send(hub, "POST", "/dart-lab/m.git/info/lfs/objects/batch",
                         {"operation": "upload", "transfers": ["basic"], "hash_algo": "sha256",
                          "objects": [{"oid": oid, "size": len(weights)}]})
    upload = batch["objects"][0]["actions"]["upload"]["href"].removeprefix(hub.base)
    assert send(hub, "PUT", upload, b"\x00other bytes")[0] == 400  # sha256 mismatch
    assert send(hub, "PUT", upload.split("?")[0] + "?sig=forged", weights)[0] == 403
    assert send(hub, "PUT", upload, weights)[0] == 200
    status, answer = send(hub, "POST", repo, commit_lines(lfs_file(weights, size=3)),
                          content_type="application/x-ndjson")  # size mismatch
    assert (status, "size 3" in answer["error"]) == (400, True)
    assert send(hub, "POST", repo, commit_lines(lfs_file(weights)),
                content_type="application/x-ndjson")[0] == 200


def test_the_double_refuses_binary_content_as_a_regular_file(hub, repo):  # noqa: F811
    op = {"key": "file", "value": {"path": "w.dat", "encoding": "base64",
                                   "content": base64.b64encode(b"\x00\x01").decode()}}
    status, answer = send(hub, "POST", repo, commit_lines(op), content_type="application/x-ndjson")
    assert (status, "binary" in answer["error"]) == (400, True)


def test_the_double_refuses_no_token_an_unknown_one_and_an_unknown_repo(hub, repo):  # noqa: F811
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    lines, ndjson = commit_lines(), "application/x-ndjson"
    assert send(hub, "POST", repo, lines, token=None, content_type=ndjson)[0] == 401
    assert send(hub, "POST", repo, lines, token="hf_x", content_type=ndjson)[0] == 401
    status, answer = send(hub, "POST", "/api/models/dart-lab/nope/commit/main", lines,
                          content_type=ndjson)
    assert (status, answer["code"]) == (404, "RepoNotFound")
    with pytest.raises(RepositoryNotFoundError):  # huggingface_hub reads the refusal as the hub's
        HfApi(endpoint=hub.base, token=WRITER_TOKEN).upload_file(
            path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="dart-lab/nope")
