"""Push a finished run's products to a bucket (`spec.export.uri`), through fsspec as for data,
or to the Hugging Face hub (`hf://ORG/NAME`, dart.report.hub_export):

    PREFIX/dataset/    synthesize/: adapted.jsonl, adapted.parquet, adapted-dataset/, README.md
    PREFIX/model/      the dart arm's fine-tuned target, seed 0, with its model card
    PREFIX/report/     report.md and its figures
    PREFIX/manifest.json   written last: every object and its size

Object stores have no rename, so the manifest is the marker: a prefix without one is an
export that did not finish, and a re-run uploads it all again.
"""

from __future__ import annotations

import json
from pathlib import Path

from dart.artifacts import DART, Artifacts
from dart.config.spec import DartRunSpec
from dart.data.remote import object_store_error
from dart.errors import UserError
from dart.report.hub_export import FIELD, is_hub_export, push_to_hub


def products(artifacts: Path) -> dict[str, Path]:
    """What is exported, by the name of its folder under the prefix."""
    layout = Artifacts(artifacts)
    return {"dataset": layout.synthesize().root, "model": layout.sft(DART, 0).model,
            "report": layout.report_dir}


def export_products(spec: DartRunSpec, artifacts: Path, log=print) -> dict:
    """Upload every product file, then the manifest; the manifest."""
    uri = spec.export.uri.rstrip("/")
    files = _files(products(artifacts))
    if is_hub_export(uri):
        return push_to_hub(uri, files, log)
    fs, root = _filesystem(uri)
    try:
        for name, local in files.items():
            fs.put_file(str(local), f"{root}/{name}")
        manifest = {"files": {name: local.stat().st_size for name, local in files.items()}}
        with fs.open(f"{root}/manifest.json", "w") as handle:
            handle.write(json.dumps(manifest, indent=1, sort_keys=True))
    except Exception as error:  # noqa: BLE001 - botocore/gcsfs errors have no common base
        raise object_store_error(uri, error, FIELD) from None
    log(f"export: {len(files)} files to {uri}")
    return manifest


def _files(folders: dict[str, Path]) -> dict[str, Path]:
    missing = [str(folder) for folder in folders.values() if not folder.is_dir()]
    if missing:
        raise UserError(f"{FIELD}: nothing to export yet: {', '.join(missing)} missing; run "
                        "the stages first")
    return {f"{name}/{path.relative_to(folder).as_posix()}": path
            for name, folder in folders.items()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def _filesystem(uri: str):
    try:
        import fsspec

        return fsspec.core.url_to_fs(uri, skip_instance_cache=True)
    except ImportError:
        raise UserError(f"{FIELD}: exporting to {uri.split('://')[0]}:// needs s3fs or gcsfs: "
                        "pip install 'dart-adapt[remote]'") from None
