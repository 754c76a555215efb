"""Models in a bucket of a real S3-compatible server on loopback (moto): a tiny model folder
uploaded, fetched once into the cache, loaded by path; a changed upload is fetched again; a
download that fails leaves nothing anyone loads; bad URIs are one error naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from s3_server import s3  # noqa: F401 - the fixture

from dart.config.model_uri import TARGET_FIELD, mapper_source, target_source
from dart.config.spec import DartRunSpec
from dart.errors import UserError


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    from dart.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "target", seed=0)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("DART_MODEL_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def upload(client, folder: Path, bucket: str, prefix: str) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            client.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(folder)}")


def spec(target: str, mapper: str | None = None) -> DartRunSpec:
    models = {"target": {"uri": target}} | ({"mapper": {"init": {"uri": mapper}}} if mapper
                                             else {})
    return DartRunSpec.model_validate({"models": models, "dataset": {"synthetic": {}}})


def test_a_bucket_model_is_fetched_once_and_loads_by_path(s3, tiny, cache):  # noqa: F811
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _, client = s3
    client.create_bucket(Bucket="models")
    upload(client, tiny, "models", "tiny/target")
    folder = Path(target_source(spec("s3://models/tiny/target")).name_or_path)
    assert folder.parent == cache and folder.name.startswith("models-tiny-target-")
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in tiny.iterdir())
    loaded = AutoModelForCausalLM.from_pretrained(folder)
    original = AutoModelForCausalLM.from_pretrained(tiny)
    assert all((a == b).all() for a, b in zip(loaded.state_dict().values(),
                                              original.state_dict().values(), strict=True))
    assert AutoTokenizer.from_pretrained(folder).encode("12+3") == \
        AutoTokenizer.from_pretrained(tiny).encode("12+3")
    stamp = (folder / "config.json").stat().st_mtime_ns
    source, field = mapper_source(spec("s3://models/tiny/target"))
    assert (Path(source.name_or_path), field) == (folder, TARGET_FIELD)
    assert (folder / "config.json").stat().st_mtime_ns == stamp  # the cache served it
    assert [p.name for p in cache.iterdir()] == [folder.name]


def test_a_model_uploaded_again_under_the_prefix_is_fetched_again(s3, tiny, cache):  # noqa: F811
    _, client = s3
    client.create_bucket(Bucket="models")
    upload(client, tiny, "models", "m")
    first = Path(target_source(spec("s3://models/m")).name_or_path)
    client.put_object(Bucket="models", Key="m/config.json",
                      Body=(tiny / "config.json").read_bytes().replace(b"{", b"{\n", 1))
    second = Path(target_source(spec("s3://models/m")).name_or_path)
    assert second != first
    assert (second / "config.json").read_bytes().startswith(b"{\n")


def test_a_failed_download_leaves_no_folder_that_would_be_loaded(s3, tiny, cache,  # noqa: F811
                                                                  monkeypatch):
    import s3fs

    _, client = s3
    client.create_bucket(Bucket="models")
    upload(client, tiny, "models", "m")
    real_get, calls = s3fs.S3FileSystem.get_file, []

    def fail_on_the_second_file(self, *args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise ConnectionResetError("connection reset by peer")
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "get_file", fail_on_the_second_file)
    with pytest.raises(UserError, match=f"^{TARGET_FIELD}: cannot use s3://models/m: "):
        target_source(spec("s3://models/m"))
    assert list(cache.iterdir()) == []  # no partial folder left, none renamed into place
    monkeypatch.setattr(s3fs.S3FileSystem, "get_file", real_get)
    assert (Path(target_source(spec("s3://models/m")).name_or_path) / "config.json").is_file()


@pytest.mark.parametrize(("uri", "words"), [
    ("s3://no-such-bucket/m", "does not exist"),
    ("s3://models/absent", "does not exist"),
    ("s3://models/not-a-model", "is not a model folder (no config.json under it)"),
])
def test_a_missing_bucket_prefix_or_model_is_one_error_naming_the_field(s3, cache,  # noqa: F811
                                                                         uri, words):
    _, client = s3
    client.create_bucket(Bucket="models")
    client.put_object(Bucket="models", Key="not-a-model/weights.bin", Body=b"0")
    with pytest.raises(UserError) as error:
        mapper_source(spec("./t", mapper=uri))
    message = str(error.value)
    assert message.startswith(f"spec.models.mapper.init.uri: {uri}") and words in message
    assert "\n" not in message


def test_no_credentials_is_one_error_with_the_fix(s3, cache, monkeypatch):  # noqa: F811
    _, client = s3
    client.create_bucket(Bucket="models")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(UserError, match=f"^{TARGET_FIELD}: no credentials for s3://models/m"):
        target_source(spec("s3://models/m"))
