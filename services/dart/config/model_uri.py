"""Turn a spec's model URI into what `from_pretrained` takes.

    local path            -> that path
    pvc://CLAIM/PATH      -> $DART_PVC_ROOT/CLAIM/PATH (the operator mounts each claim there)
    hf://ORG/NAME@REV     -> ("ORG/NAME", revision "REV"); the token comes from HF_TOKEN, which
                             the operator fills from the spec's tokenSecret (never a value here)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dart.config.spec import ModelRef

PVC_ROOT = Path(os.environ.get("DART_PVC_ROOT", "/pvc"))


@dataclass(frozen=True)
class ModelSource:
    """Arguments for `AutoModel*.from_pretrained`."""

    name_or_path: str
    revision: str | None = None

    def kwargs(self) -> dict[str, str]:
        return {"revision": self.revision} if self.revision else {}


def resolve_model(ref: ModelRef, pvc_root: Path = PVC_ROOT) -> ModelSource:
    uri = ref.uri
    if uri.startswith("hf://"):
        name, _, revision = uri.removeprefix("hf://").partition("@")
        return ModelSource(name, revision or None)
    if uri.startswith("pvc://"):
        return ModelSource(str(pvc_root / uri.removeprefix("pvc://")))
    return ModelSource(str(Path(uri).expanduser()))
