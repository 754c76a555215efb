"""Push a finished run's products to the Hugging Face hub (`export.uri: hf://ORG/NAME`):

    datasets/ORG/NAME   the adapted dataset: synthesize/ at the repo's root, so its dataset
                        card is the repo's README.md and `load_dataset("ORG/NAME")` reads it
    ORG/NAME            the dart arm's fine-tuned target (seed 0) at the root, its model card
                        as README.md, so `from_pretrained("ORG/NAME")` loads it; the report
                        under report/; manifest.json

The dataset repo is committed first, then the model repo in one commit that carries the
manifest. A hub commit is atomic, so a model repo with the manifest holds a finished export;
a re-run commits only what changed. Repos that do not exist yet are created private: making
a run public is the user's decision, on the hub. The token is huggingface_hub's (HF_TOKEN,
else the one `hf auth login` saved), the endpoint HF_ENDPOINT's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from dart.errors import UserError

FIELD = "export.uri"
"""What every export error names (the bucket export's too)."""
HUB_SCHEME = "hf://"
REPO_OF_PRODUCT = {"dataset": ("dataset", ""), "model": ("model", ""),
                   "report": ("model", "report/")}
"""Each product's repo type and its folder in that repo (the one place that says where)."""
MANIFEST = "manifest.json"


def is_hub_export(uri: str) -> bool:
    return uri.startswith(HUB_SCHEME)


def push_to_hub(uri: str, files: dict[str, Path], log=print) -> dict:
    """Commit the dataset repo, then the model repo with the manifest; the manifest."""
    repo_id = uri.removeprefix(HUB_SCHEME).rstrip("/")
    api = _hub_api(uri)
    manifest = {"files": {name: path.stat().st_size for name, path in files.items()},
                "locations": locations(repo_id)}
    additions = _additions(files)
    additions["model"].append(_operation(MANIFEST, json.dumps(manifest, indent=1,
                                                                sort_keys=True).encode()))
    for repo_type in ("dataset", "model"):  # the model repo last: its commit has the manifest
        _commit(api, uri, repo_id, repo_type, additions[repo_type])
    log(f"export: {len(files)} files to hf://datasets/{repo_id} and {uri}")
    return manifest


def locations(repo_id: str) -> dict[str, str]:
    """Where each product went, as hf:// URIs (huggingface_hub's `hf://[TYPE/]ID[/PATH]`)."""
    return {name: f"{HUB_SCHEME}{'datasets/' if kind == 'dataset' else ''}{repo_id}"
                  + (f"/{folder.rstrip('/')}" if folder else "")
            for name, (kind, folder) in REPO_OF_PRODUCT.items()}


def path_in_repo(name: str) -> tuple[str, str]:
    """`dataset/README.md` -> ("dataset", "README.md"); `report/report.md` -> ("model",
    "report/report.md")."""
    product, _, rest = name.partition("/")
    kind, folder = REPO_OF_PRODUCT[product]
    return kind, folder + rest


def _additions(files: dict[str, Path]) -> dict[str, list]:
    additions: dict[str, list] = {"dataset": [], "model": []}
    for name, local in files.items():
        kind, path = path_in_repo(name)
        additions[kind].append(_operation(path, local))
    return additions


def _operation(path: str, content: Path | bytes):
    from huggingface_hub import CommitOperationAdd

    return CommitOperationAdd(path_in_repo=path, path_or_fileobj=content)


def _hub_api(uri: str):
    """An HfApi with a token, or a UserError before anything is sent."""
    from huggingface_hub import HfApi, constants, get_token

    if constants.is_offline_mode():
        raise UserError(f"{FIELD}: cannot push to {uri} with HF_HUB_OFFLINE=1 set; unset it for "
                        "the report unit")
    token = get_token()
    if not token:
        raise UserError(f"{FIELD}: pushing to {uri} needs a hub token that may write to "
                        f"{uri.removeprefix(HUB_SCHEME).split('/')[0]}: set HF_TOKEN (in a "
                        "cluster, export.tokenSecret)")
    # HF_ENDPOINT read now, not when huggingface_hub was first imported.
    return HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None, token=token)


def _commit(api, uri: str, repo_id: str, repo_type: str, operations: list) -> None:
    where = f"{HUB_SCHEME}{'datasets/' if repo_type == 'dataset' else ''}{repo_id}"
    try:
        api.create_repo(repo_id, repo_type=repo_type, private=True, exist_ok=True)
        api.create_commit(repo_id, operations, repo_type=repo_type,
                          commit_message="DART export: adapted dataset" if repo_type == "dataset"
                          else "DART export: fine-tuned target, report, manifest")
    except Exception as error:  # noqa: BLE001 - HTTP, connection and validation errors alike
        raise hub_error(where, error) from None


def hub_error(where: str, error: Exception) -> UserError:
    """One sentence for what the hub answered: bad token, no write access, unreachable."""
    status = getattr(getattr(error, "response", None), "status_code", None)
    if status == 401:
        return UserError(f"{FIELD}: the hub refused the token for {where} (401): give a valid "
                         "token with write access (HF_TOKEN; export.tokenSecret in a cluster)")
    if status == 403:
        return UserError(f"{FIELD}: the token may not write to {where} (403): use a token with "
                         "write access to its organization, or an organization it can write to")
    if status is None and isinstance(error, (OSError, *_connect_errors())):
        return UserError(f"{FIELD}: cannot reach the hub for {where}: {_first_line(error)}; "
                         "check the network and HF_ENDPOINT")
    return UserError(f"{FIELD}: pushing to {where} failed: {type(error).__name__}: "
                     f"{_first_line(error)}")


def _connect_errors() -> tuple[type[Exception], ...]:
    """huggingface_hub's HTTP client (httpx2 since 2.x) raises these when nothing answers."""
    errors = []
    for name in ("httpx2", "httpx"):
        try:
            errors.append(__import__(name).TransportError)
        except ImportError:
            pass
    return tuple(errors)


def _first_line(error: Exception) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
