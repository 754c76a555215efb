"""Demonstrations that live elsewhere: object stores and the Hugging Face hub.

    s3://BUCKET/KEY.jsonl|.parquet     through fsspec + s3fs; credentials from the standard AWS
                                       environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
                                       AWS_PROFILE, a pod's role), endpoint from AWS_ENDPOINT_URL
    gs://BUCKET/KEY.jsonl|.parquet     the same through gcsfs (GOOGLE_APPLICATION_CREDENTIALS or
                                       the pod's workload identity)
    hf://datasets/ORG/NAME@REV         the dataset repository at REV, through huggingface_hub
                                       (token from HF_TOKEN) and `datasets`

Object-store files are streamed, never copied to disk; hub datasets land in huggingface_hub's
cache (HF_HOME), which it writes atomically. Every failure is one UserError naming the
spec field (`dataset.file.path`, `.split`, `dataset.fields.*`) and the fix.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from dart.errors import UserError

OBJECT_STORE_SCHEMES = {"s3": "s3fs", "gs": "gcsfs"}
HUB_PREFIX = "hf://datasets/"
PATH_FIELD = "dataset.file.path"


def is_object_store(path: str) -> bool:
    return path.split("://", 1)[0] in OBJECT_STORE_SCHEMES and "://" in path


def is_hub_dataset(path: str) -> bool:
    return path.startswith(HUB_PREFIX)


def object_store_format(url: str, declared: str) -> str:
    if declared == "hf-disk":
        raise UserError(f"{PATH_FIELD}: {url}: a saved-dataset folder cannot be read from an "
                        "object store; upload a .jsonl or .parquet file")
    if declared != "auto":
        return declared
    if url.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if url.endswith(".parquet"):
        return "parquet"
    raise UserError(f"{PATH_FIELD}: {url}: cannot tell the data format from the name; set "
                    "dataset.file.format to jsonl or parquet")


def open_object(url: str):
    """An open binary file object for `url`, or a UserError saying why not."""
    scheme = url.split("://", 1)[0]
    try:
        import fsspec

        # A fresh filesystem each time: fsspec would reuse one with the endpoint and
        # credentials of an earlier read. fsspec's files take no size in readline(): a
        # standard buffered reader does, so over-long lines stay bounded as for local files.
        return io.BufferedReader(fsspec.open(url, "rb", skip_instance_cache=True).open())
    except ImportError:
        raise UserError(f"{PATH_FIELD}: reading {scheme}:// needs {OBJECT_STORE_SCHEMES[scheme]}"
                        ": pip install 'dart-adapt[remote]'") from None
    except Exception as error:  # noqa: BLE001 - botocore/gcsfs errors have no common base
        raise object_store_error(url, error) from None


def object_store_error(url: str, error: Exception, field: str = PATH_FIELD) -> UserError:
    """One sentence for what went wrong with `url`: missing, refused, no credentials."""
    name = type(error).__name__
    if "Credentials" in name or "credentials" in str(error).lower():
        return UserError(f"{field}: no credentials for {url}; set AWS_ACCESS_KEY_ID "
                         "and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or the pod's role) for "
                         "s3://, GOOGLE_APPLICATION_CREDENTIALS for gs://")
    if isinstance(error, FileNotFoundError) or "NoSuchBucket" in str(error):
        return UserError(f"{field}: {url} does not exist (no such bucket or key); check "
                         "the bucket name and the key")
    if isinstance(error, PermissionError):
        return UserError(f"{field}: access to {url} was refused ({_first_line(error)}); "
                         "check the credentials' permissions on the bucket")
    return UserError(f"{field}: cannot use {url}: {name}: {_first_line(error)}")


def hub_dataset(url: str, split: str | None, columns: list[str]):
    """The split of a hub dataset repository at its revision, its columns checked."""
    repo, revision = parse_hub_url(url)
    folder = _snapshot(repo, revision, url)
    dataset = _load_split(folder, split, url)
    missing = [c for c in columns if c not in dataset.column_names]
    if missing:
        raise UserError(f"dataset.fields: column {missing[0]!r} is not in {url} (split "
                        f"{split or 'default'}); its columns are: "
                        f"{', '.join(dataset.column_names)}; map the fields to them")
    return dataset


def hub_records(url: str, split: str | None, columns: list[str]) -> Iterator[dict]:
    yield from hub_dataset(url, split, columns)


def parse_hub_url(url: str) -> tuple[str, str | None]:
    repo, _, revision = url.removeprefix(HUB_PREFIX).partition("@")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise UserError(f"{PATH_FIELD}: {url}: expected hf://datasets/ORG/NAME@REVISION")
    return repo, revision or None


def _snapshot(repo: str, revision: str | None, url: str) -> str:
    """The repository's files at `revision`, from the hub or (offline) its local cache."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        return snapshot_download(repo, repo_type="dataset", revision=revision)
    except RevisionNotFoundError:
        raise UserError(f"{PATH_FIELD}: revision {revision!r} of {repo} does not exist; give "
                        "a branch, tag or commit of the dataset repository") from None
    except GatedRepoError:
        raise UserError(f"{PATH_FIELD}: {repo} is gated; accept its terms on the hub and give "
                        "a token (dataset.file.tokenSecret, HF_TOKEN locally)") from None
    except RepositoryNotFoundError:
        raise UserError(f"{PATH_FIELD}: dataset {repo} is not on the hub, or it is private "
                        "and no token was given (dataset.file.tokenSecret, HF_TOKEN)") from None
    except LocalEntryNotFoundError:
        raise UserError(f"{PATH_FIELD}: {url} is not in the local hub cache and the hub is "
                        "offline (HF_HUB_OFFLINE); fetch it once online, or check the "
                        "revision") from None


def _load_split(folder: str, split: str | None, url: str):
    import datasets

    try:
        loaded = datasets.load_dataset(folder)
    except (FileNotFoundError, ValueError) as error:
        raise UserError(f"{PATH_FIELD}: {url} holds no data files `datasets` can read "
                        f"({_first_line(error)})") from None
    names = list(loaded)
    if split is None and len(names) == 1:
        return loaded[names[0]]
    if split is None:
        raise UserError(f"dataset.file.split: {url} has the splits {', '.join(names)}; set "
                        "dataset.file.split to one of them")
    if split not in loaded:
        raise UserError(f"dataset.file.split: split {split!r} is not in {url}; set it to one "
                        f"of: {', '.join(names)}")
    return loaded[split]


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
