"""`hf://ORG/NAME@REV` models with `dart run`: the local servers, the evaluation and the cost
accounting get a folder from huggingface_hub's cache at that revision (offline here: the
snapshot is laid out on disk as a download leaves it), and a model that cannot be had is one
error naming the spec field."""

import huggingface_hub.constants
import pytest

from dart.config.load import parse_dartrun
from dart.config.model_uri import TARGET_FIELD, mapper_source, model_folder, resolve_model
from dart.errors import UserError

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """A hub cache holding dart/tiny at tag `v1` (-> COMMIT) and nothing at `main`, as
    snapshot_download leaves it; every process of the test (the servers too) reads it,
    offline. (Without `main`, a dropped revision cannot pass unnoticed.)"""
    from dart.models.tiny import build_tiny_model

    repo = tmp_path / "hub" / "models--dart--tiny"
    build_tiny_model(repo / "snapshots" / COMMIT, seed=0)
    (repo / "refs").mkdir()
    (repo / "refs" / "v1").write_text(COMMIT)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    return repo


def spec_with(target: str, mapper: str | None = None):
    models = {"target": {"uri": target}}
    if mapper:
        models["mapper"] = {"init": {"uri": mapper}}
    return parse_dartrun({"apiVersion": "dart.ai/v1alpha1", "kind": "DartRun",
                          "metadata": {"name": "hub"},
                          "spec": {"models": models, "dataset": {"synthetic": {}}}}).spec


def test_a_hub_model_is_its_cached_snapshot_at_the_revision(hub_cache):
    snapshot = str(hub_cache / "snapshots" / COMMIT)
    for uri in ("hf://dart/tiny@v1", f"hf://dart/tiny@{COMMIT}"):
        assert model_folder(resolve_model(spec_with(uri).models.target), TARGET_FIELD) == snapshot
    source, field = mapper_source(spec_with("./t", mapper="hf://dart/tiny@v1"))
    assert (model_folder(source, field), field) == (snapshot, "spec.models.mapper.init.uri")


@pytest.mark.parametrize("uri", ["hf://dart/tiny@v2", "hf://dart/tiny", "hf://dart/absent@v1"])
def test_a_hub_model_that_cannot_be_had_is_one_error_naming_the_field(hub_cache, uri):
    with pytest.raises(UserError) as caught:
        model_folder(resolve_model(spec_with(uri).models.target), TARGET_FIELD)
    message = str(caught.value)
    assert message.startswith(f"{TARGET_FIELD}: {uri} is not in the local hub cache")
    assert "\n" not in message


def test_local_servers_serve_a_hub_model(hub_cache, tmp_path):
    from dart.local.servers import local_servers
    from dart.serving.client import GeneratorClient, ScorerClient

    spec = spec_with("hf://dart/tiny@v1")
    with local_servers(spec, tmp_path / "servers") as (generator, scorer):
        with GeneratorClient(generator) as client:
            (group,) = client.generate(["Question:\n1 + 1\nSolution:\n"], max_tokens=4)
            assert len(group) == 1 and len(group[0].token_ids) > 0
        with ScorerClient(scorer) as client:
            client.wait_ready()
