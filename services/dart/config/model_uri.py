"""Turn a spec's model URI into what `from_pretrained` takes.

    local path            -> that path
    pvc://CLAIM/PATH      -> $DART_PVC_ROOT/CLAIM/PATH (the operator mounts each claim there)
    hf://ORG/NAME@REV     -> ("ORG/NAME", revision "REV"); the token comes from HF_TOKEN, which
                             the operator fills from the spec's tokenSecret (never a value here)
    s3://, gs://BUCKET/P  -> the local folder it is downloaded to (dart.config.bucket_models)

Whatever needs a folder (the local servers, parameter counts) asks `model_folder`: a hub
model is fetched once into huggingface_hub's cache (HF_HOME) at its revision, as the
operator's model-cache init step does in a cluster; offline, the cached snapshot serves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dart.config.bucket_models import fetch_bucket_model, is_bucket_uri
from dart.config.spec import DartRunSpec, ModelRef
from dart.errors import UserError

PVC_ROOT = Path(os.environ.get("DART_PVC_ROOT", "/pvc"))
TARGET_FIELD = "spec.models.target.uri"


@dataclass(frozen=True)
class ModelSource:
    """Arguments for `AutoModel*.from_pretrained`."""

    name_or_path: str
    revision: str | None = None
    from_hub: bool = False

    def kwargs(self) -> dict[str, str]:
        return {"revision": self.revision} if self.revision else {}


def resolve_model(ref: ModelRef, pvc_root: Path = PVC_ROOT,
                  field: str = "spec.models") -> ModelSource:
    """`field` is what an error names; a bucket model is downloaded here (once: cached)."""
    uri = ref.uri
    if is_bucket_uri(uri):
        return ModelSource(str(fetch_bucket_model(uri, field)))
    if uri.startswith("hf://"):
        name, _, revision = uri.removeprefix("hf://").partition("@")
        return ModelSource(name, revision or None, from_hub=True)
    if uri.startswith("pvc://"):
        return ModelSource(str(pvc_root / uri.removeprefix("pvc://")))
    return ModelSource(str(Path(uri).expanduser()))


def target_source(spec: DartRunSpec) -> ModelSource:
    return resolve_model(spec.models.target, field=TARGET_FIELD)


def mapper_source(spec: DartRunSpec) -> tuple[ModelSource, str]:
    """The mapper's starting point (its init, else the target itself) and its spec field."""
    if spec.models.mapper.init is not None:
        field = "spec.models.mapper.init.uri"
        return resolve_model(spec.models.mapper.init, field=field), field
    return target_source(spec), TARGET_FIELD


def model_folder(source: ModelSource, field: str) -> str:
    """A local folder holding the model; `field` (e.g. `spec.models.target.uri`) is what an
    error names."""
    if not source.from_hub:
        return source.name_or_path
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    uri = f"hf://{source.name_or_path}" + (f"@{source.revision}" if source.revision else "")
    try:
        return snapshot_download(source.name_or_path, revision=source.revision)
    except GatedRepoError:
        why = "is gated: accept its terms on the hub and give a token (HF_TOKEN)"
    except RevisionNotFoundError:
        why = f"has no revision {source.revision!r}: name a branch, tag or commit it has"
    except RepositoryNotFoundError:
        why = "does not exist, or is private and HF_TOKEN gives no access to it"
    except LocalEntryNotFoundError:
        why = ("is not in the local hub cache and the hub cannot be reached (offline or "
               "HF_HUB_OFFLINE=1): download it once where there is a network, or use a folder")
    except (HfHubHTTPError, OSError) as error:
        why = f"could not be fetched: {str(error).splitlines()[0]}"
    raise UserError(f"{field}: {uri} {why}")
