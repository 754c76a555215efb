"""Models in an object store (`s3://BUCKET/PREFIX`, `gs://BUCKET/PREFIX`): the folder under
the prefix (save_pretrained layout) is downloaded through fsspec into a local cache, then
loaded by path like any folder.

    DART_MODEL_CACHE/<bucket>-<prefix>-<hash>/     (default ~/.cache/dart/models)

The hash covers the URI and every object's name, size and ETag, so a model re-uploaded
under the same prefix is fetched again, and an unchanged one is not. A download lands in a
hidden `.partial-*` folder renamed into place when complete: a crash leaves only a partial
folder no one reads, and processes fetching together (ranks, pods) each rename their own
copy, the first one wins. Credentials as for object-store data (dart.data.remote).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from dart.errors import UserError

BUCKET_SCHEMES = ("s3://", "gs://")
CACHE_ENV = "DART_MODEL_CACHE"


def is_bucket_uri(uri: str) -> bool:
    return uri.startswith(BUCKET_SCHEMES)


def model_cache() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "dart" / "models"


def fetch_bucket_model(uri: str, field: str) -> Path:
    """The local folder holding the model at `uri`, downloaded unless already cached."""
    from dart.data.remote import object_store_error

    fs, root = _filesystem(uri, field)
    try:
        objects = _objects(fs, root, uri, field)
        folder = model_cache() / _cache_name(uri, objects)
        if not folder.is_dir():
            _download(fs, root, objects, folder)
    except UserError:
        raise
    except Exception as error:  # noqa: BLE001 - botocore/gcsfs errors have no common base
        raise object_store_error(uri, error, field) from None
    return folder


def _filesystem(uri: str, field: str):
    try:
        import fsspec

        # A fresh filesystem: a cached one keeps an earlier endpoint and credentials.
        fs, root = fsspec.core.url_to_fs(uri, skip_instance_cache=True)
    except ImportError:
        raise UserError(f"{field}: loading a model from {uri.split('://')[0]}:// needs s3fs "
                        "or gcsfs: pip install 'dart-adapt[remote]'") from None
    return fs, root.rstrip("/")


def _objects(fs, root: str, uri: str, field: str) -> dict[str, dict]:
    """Relative name -> {size, etag} of every object under the prefix."""
    found = fs.find(root, detail=True)
    objects = {name.removeprefix(root).lstrip("/"): {"size": info.get("size"),
                                                      "etag": str(info.get("ETag", ""))}
               for name, info in found.items() if info.get("type", "file") == "file"}
    if not objects:
        raise UserError(f"{field}: {uri} does not exist (no such bucket or prefix, or it "
                        "is empty); check the bucket name and the prefix")
    if "config.json" not in objects:
        raise UserError(f"{field}: {uri} is not a model folder (no config.json under it); "
                        "upload the folder save_pretrained wrote")
    return objects


def _cache_name(uri: str, objects: dict[str, dict]) -> str:
    digest = hashlib.sha256(json.dumps([uri, objects], sort_keys=True).encode()).hexdigest()
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", uri.split("://", 1)[1]).strip("-")[:80]
    return f"{readable}-{digest[:16]}"


def _download(fs, root: str, objects: dict[str, dict], folder: Path) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=folder.parent))
    try:
        for name in objects:
            (partial / name).parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(f"{root}/{name}", str(partial / name))
        try:
            partial.rename(folder)
        except OSError:
            if not folder.is_dir():  # not another process's complete copy: a real failure
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
