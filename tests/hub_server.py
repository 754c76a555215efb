"""A loopback double of the Hugging Face hub's upload API, as strict as the hub for the
requests huggingface_hub's upload path sends (hf_api.create_repo / create_commit /
preupload_lfs_files, _commit_api, lfs.py):

    POST /api/repos/create                              create a repo (409 if it exists)
    GET  /api/{type}s/{org}/{name}[/revision/{rev}]     repo info (an unchanged re-upload)
    POST /api/validate-yaml                             a README.md's front matter
    POST /api/{type}s/{org}/{name}/preupload/{rev}      "lfs" or "regular" for each file
    POST /[{type}s/]{org}/{name}.git/info/lfs/objects/batch   LFS upload actions
    PUT  /_lfs/{type}/{org}/{name}/{oid}?sig=...        the "presigned" object upload
    POST /[{type}s/]{org}/{name}.git/info/lfs/objects/verify
    POST /api/{type}s/{org}/{name}/commit/{rev}         NDJSON: header, file, lfsFile, deleted*

Refused as the hub refuses them: no or an unknown token (401), a namespace the token may not
write to (403), an unknown repo (404 RepoNotFound) or revision (404 RevisionNotFound), a
binary or >= 10 MB file committed as a regular file, an lfsFile whose object was never
uploaded or whose size differs, an upload whose bytes do not hash to its oid or whose size
differs, a commit without its header. Committed files are kept for tests to read back.
Xet is not spoken: tests turn it off (HF_HUB_DISABLE_XET) and huggingface_hub uses LFS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

LFS_THRESHOLD = 10 * 2**20
"""The hub stores files of 10 MB and more in LFS, whatever their content."""
LFS_EXTENSIONS = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".onnx", ".arrow",
                  ".parquet", ".zip", ".tar", ".gz", ".npy", ".pkl", ".model", ".msgpack")
"""Patterns of the .gitattributes a new hub repo is created with."""
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"
REPO = r"(?P<repo>[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)"
TYPE = r"(?P<type>model|dataset|space)s"


class HubRefusal(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, **extra):
        super().__init__(message)
        self.status, self.message, self.code, self.extra = status, message, code, extra


@dataclass
class Repo:
    private: bool
    files: dict[str, bytes] = field(default_factory=dict)
    lfs_paths: set[str] = field(default_factory=set)
    objects: dict[str, bytes] = field(default_factory=dict)
    """LFS objects uploaded to this repo (the hub scopes them by repo), by sha256."""
    commits: list[dict] = field(default_factory=list)

    @property
    def head(self) -> str:
        return self.commits[-1]["oid"] if self.commits else "0" * 40


@dataclass
class FakeHub:
    """The hub's state; `tokens` maps each valid token to the namespaces it may write to."""

    tokens: dict[str, set[str]]
    repos: dict[tuple[str, str], Repo] = field(default_factory=dict)
    signatures: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""

    def repo(self, kind: str, repo_id: str) -> Repo:
        if (kind, repo_id) not in self.repos:
            raise HubRefusal(404, f"Repository not found: {kind}s/{repo_id}", "RepoNotFound")
        return self.repos[kind, repo_id]

    def writer(self, token: str | None, repo_id: str) -> None:
        """Refuse a request that may not write to `repo_id`'s namespace."""
        if repo_id.split("/")[0] not in self.namespaces(token):
            raise HubRefusal(403, f"You don't have the rights to write to {repo_id}")

    def namespaces(self, token: str | None) -> set[str]:
        if token is None:
            raise HubRefusal(401, "You must be authenticated to access this resource")
        if token not in self.tokens:
            raise HubRefusal(401, INVALID_CREDENTIALS)
        return self.tokens[token]


def create_repo(hub: FakeHub, token: str | None, body: dict) -> dict:
    kind = body.get("type") or "model"
    namespace = body.get("organization") or sorted(hub.namespaces(token))[0]
    repo_id = f"{namespace}/{body['name']}"
    hub.writer(token, repo_id)
    url = f"{hub.base}/{_prefix(kind)}{repo_id}"
    if (kind, repo_id) in hub.repos:
        raise HubRefusal(409, "You already created this repo", url=url)  # as the hub answers
    hub.repos[kind, repo_id] = Repo(private=body.get("visibility", "public") != "public")
    return {"url": url, "name": repo_id}


def repo_info(hub: FakeHub, token: str | None, kind: str, repo_id: str, revision: str) -> dict:
    repo = hub.repo(kind, repo_id)
    if repo.private and repo_id.split("/")[0] not in _readable(hub, token):
        raise HubRefusal(404, f"Repository not found: {repo_id}", "RepoNotFound")
    _check_revision(revision)
    return {"id": repo_id, "sha": repo.head, "private": repo.private,
            "siblings": [{"rfilename": path} for path in sorted(repo.files)]}


def validate_yaml(body: dict) -> dict:
    """The card's front matter must be a YAML mapping (the hub checks it against its schema)."""
    content = body.get("content", "")
    if not content.startswith("---"):
        return {"errors": [], "warnings": [{"message": "empty or missing yaml metadata"}]}
    front = content.split("---", 2)[1]
    try:
        parsed = yaml.safe_load(front)
    except yaml.YAMLError as error:
        raise HubRefusal(400, f"Invalid YAML in README.md: {error}") from None
    if parsed is not None and not isinstance(parsed, dict):
        raise HubRefusal(400, "README.md metadata must be a mapping")
    return {"errors": [], "warnings": []}


def preupload(hub: FakeHub, token, kind: str, repo_id: str, revision: str, body: dict) -> dict:
    repo = _writable(hub, token, kind, repo_id, revision)
    answers = []
    for entry in body["files"]:
        sample = base64.b64decode(entry["sample"])
        lfs = _needs_lfs(entry["path"], entry["size"], sample)
        answers.append({"path": entry["path"], "uploadMode": "lfs" if lfs else "regular",
                        "shouldIgnore": False, "oid": _oid(repo, entry["path"])})
    return {"files": answers, "commitOid": repo.head}


def lfs_batch(hub: FakeHub, token, kind: str, repo_id: str, body: dict) -> dict:
    repo = _writable(hub, token, kind, repo_id, "main")
    if body.get("operation") != "upload" or body.get("hash_algo", "sha256") != "sha256":
        raise HubRefusal(400, "only sha256 uploads are supported")
    if "basic" not in body.get("transfers", ["basic"]):
        raise HubRefusal(400, "no supported transfer adapter")
    return {"transfer": "basic", "objects": [_lfs_action(hub, repo, kind, repo_id, obj, token)
                                             for obj in body["objects"]]}


def lfs_put(hub: FakeHub, kind: str, repo_id: str, oid: str, signature: str, data: bytes):
    """The presigned-URL upload: only with the signature the batch answer gave."""
    if hub.signatures.get(oid) != signature:
        raise HubRefusal(403, "SignatureDoesNotMatch")
    if hashlib.sha256(data).hexdigest() != oid:
        raise HubRefusal(400, f"uploaded bytes do not hash to {oid}")
    hub.repo(kind, repo_id).objects[oid] = data


def lfs_verify(hub: FakeHub, token, kind: str, repo_id: str, body: dict) -> dict:
    repo = _writable(hub, token, kind, repo_id, "main")
    stored = repo.objects.get(body.get("oid", ""))
    if stored is None or len(stored) != body.get("size"):
        raise HubRefusal(404, f"LFS object {body.get('oid')} of size {body.get('size')} not found")
    return {"success": True}


def commit(hub: FakeHub, token, kind: str, repo_id: str, revision: str, lines: list[dict]):
    repo = _writable(hub, token, kind, repo_id, revision)
    if not lines or lines[0].get("key") != "header" or "summary" not in lines[0]["value"]:
        raise HubRefusal(400, "the first line of a commit must be its header with a summary")
    files, lfs, deleted = dict(repo.files), set(repo.lfs_paths), []
    for line in lines[1:]:  # validated in full before anything is applied: commits are atomic
        _apply(repo, line, files, lfs, deleted)
    oid = hashlib.sha1(json.dumps(lines, sort_keys=True).encode() + repo.head.encode()).hexdigest()
    repo.files, repo.lfs_paths = files, lfs
    repo.commits.append({"oid": oid, "summary": lines[0]["value"]["summary"],
                         "paths": [line["value"]["path"] for line in lines[1:]]})
    return {"commitUrl": f"{hub.base}/{_prefix(kind)}{repo_id}/commit/{oid}", "commitOid": oid,
            "success": True, "pullRequestUrl": None}


def _apply(repo: Repo, line: dict, files: dict, lfs: set, deleted: list) -> None:
    key, value = line.get("key"), line.get("value", {})
    path = value.get("path", "")
    if key == "file":
        content = base64.b64decode(value["content"])
        if _needs_lfs(path, len(content), content[:512]):
            raise HubRefusal(400, f"Your push was rejected because it contains binary files "
                             f"or files of 10 MB or more: {path}; use LFS")
        files[path] = content
        lfs.discard(path)
    elif key == "lfsFile":
        stored = repo.objects.get(value.get("oid", ""))
        if stored is None:
            raise HubRefusal(400, f"LFS object {value.get('oid')} for {path} was never uploaded")
        if "size" in value and value["size"] != len(stored):
            raise HubRefusal(400, f"size {value['size']} of {path} is not that of its LFS object")
        files[path] = stored
        lfs.add(path)
    elif key == "deletedFile" and path in files:
        del files[path]
        deleted.append(path)
    else:
        raise HubRefusal(400, f"invalid commit operation: {key} {path}")


def _lfs_action(hub: FakeHub, repo: Repo, kind: str, repo_id: str, obj: dict, token) -> dict:
    oid, size = obj["oid"], obj["size"]
    if not re.fullmatch(r"[0-9a-f]{64}", oid) or not isinstance(size, int) or size < 0:
        raise HubRefusal(422, f"invalid LFS object {oid}")
    if oid in repo.objects and len(repo.objects[oid]) == size:
        return {"oid": oid, "size": size}  # already stored: no actions, nothing to upload
    hub.signatures[oid] = secrets.token_hex(8)
    upload = f"{hub.base}/_lfs/{kind}/{repo_id}/{oid}?sig={hub.signatures[oid]}"
    verify = f"{hub.base}/{_prefix(kind)}{repo_id}.git/info/lfs/objects/verify"
    return {"oid": oid, "size": size, "authenticated": True,
            "actions": {"upload": {"href": upload},
                        "verify": {"href": verify,
                                   "header": {"Authorization": f"Bearer {token}"}}}}


def _writable(hub: FakeHub, token, kind: str, repo_id: str, revision: str) -> Repo:
    hub.namespaces(token)
    repo = hub.repo(kind, repo_id)
    hub.writer(token, repo_id)
    _check_revision(revision)
    return repo


def _check_revision(revision: str) -> None:
    if revision != "main":
        raise HubRefusal(404, f"Revision not found: {revision}", "RevisionNotFound")


def _readable(hub: FakeHub, token) -> set[str]:
    return hub.tokens.get(token, set()) if token else set()


def _needs_lfs(path: str, size: int, sample: bytes) -> bool:
    return size >= LFS_THRESHOLD or path.endswith(LFS_EXTENSIONS) or b"\x00" in sample


def _oid(repo: Repo, path: str) -> str | None:
    """What the hub reports for a file it holds: sha256 for LFS files, the git blob sha1 for
    regular ones (huggingface_hub skips an unchanged file by comparing them)."""
    if path not in repo.files:
        return None
    content = repo.files[path]
    if path in repo.lfs_paths:
        return hashlib.sha256(content).hexdigest()
    return hashlib.sha1(f"blob {len(content)}\0".encode() + content).hexdigest()


def _prefix(kind: str) -> str:
    return "" if kind == "model" else f"{kind}s/"


ROUTES = [
    ("POST", r"/api/repos/create", lambda h, t, m, b, q: create_repo(h, t, b)),
    ("POST", r"/api/validate-yaml", lambda h, t, m, b, q: validate_yaml(b)),
    ("GET", rf"/api/{TYPE}/{REPO}(/revision/(?P<rev>[^/]+))?",
     lambda h, t, m, b, q: repo_info(h, t, m["type"], m["repo"], m["rev"] or "main")),
    ("POST", rf"/api/{TYPE}/{REPO}/preupload/(?P<rev>[^/]+)",
     lambda h, t, m, b, q: preupload(h, t, m["type"], m["repo"], m["rev"], b)),
    ("POST", rf"/({TYPE}/)?{REPO}\.git/info/lfs/objects/batch",
     lambda h, t, m, b, q: lfs_batch(h, t, m["type"] or "model", m["repo"], b)),
    ("POST", rf"/({TYPE}/)?{REPO}\.git/info/lfs/objects/verify",
     lambda h, t, m, b, q: lfs_verify(h, t, m["type"] or "model", m["repo"], b)),
    ("POST", rf"/api/{TYPE}/{REPO}/commit/(?P<rev>[^/]+)",
     lambda h, t, m, b, q: commit(h, t, m["type"], m["repo"], m["rev"], b)),
    ("PUT", r"/_lfs/(?P<type>model|dataset|space)/" + REPO + r"/(?P<oid>[0-9a-f]{64})",
     lambda h, t, m, b, q: lfs_put(h, m["type"], m["repo"], m["oid"],
                                   q.get("sig", [""])[0], b)),
]


class HubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # huggingface_hub keeps connections alive
    hub: FakeHub

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")

    def log_message(self, *args):  # quiet: tests read `hub.requests` instead
        pass

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        raw = self._body()
        with self.hub.lock:
            self.hub.requests.append((method, url.path))
            try:
                answer = self._route(method, url, raw)
                self._reply(200, answer if answer is not None else {})
            except HubRefusal as refusal:
                self._reply(refusal.status, {"error": refusal.message, **refusal.extra}, refusal)

    def _route(self, method: str, url, raw: bytes):
        for verb, pattern, handler in ROUTES:
            match = re.fullmatch(pattern, url.path)
            if verb == method and match:
                body = raw if verb == "PUT" else _parse(raw, self.headers.get("Content-Type"))
                return handler(self.hub, self._token(), match, body, parse_qs(url.query))
        raise HubRefusal(404, f"no route {method} {url.path}")

    def _token(self) -> str | None:
        header = self.headers.get("Authorization", "")
        return header.removeprefix("Bearer ").strip() or None if header else None

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._chunked()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _chunked(self) -> bytes:
        data = bytearray()
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            data += self.rfile.read(size)
            self.rfile.readline()
        self.rfile.readline()  # the empty line after the last chunk
        return bytes(data)

    def _reply(self, status: int, answer: dict, refusal: HubRefusal | None = None) -> None:
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if refusal is not None:
            self.send_header("X-Error-Message", refusal.message)
            if refusal.code:
                self.send_header("X-Error-Code", refusal.code)
        self.end_headers()
        self.wfile.write(body)


def _parse(raw: bytes, content_type: str | None):
    if content_type and "ndjson" in content_type:
        return [json.loads(line) for line in raw.splitlines() if line.strip()]
    try:
        return json.loads(raw or b"{}")
    except json.JSONDecodeError:
        raise HubRefusal(400, "the body is not JSON") from None


class RunningHub:
    """A FakeHub served on a loopback port in a thread; `endpoint` is its base URL."""

    def __init__(self, tokens: dict[str, set[str]]):
        self.hub = FakeHub(tokens)
        handler = type("BoundHubHandler", (HubHandler,), {"hub": self.hub})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.endpoint = self.hub.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RunningHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


WRITER_TOKEN = "hf_writer_dart_lab"
"""A token that may write to the `dart-lab` organization and the user `alice`."""
READER_TOKEN = "hf_reader"
"""A valid token that may write nowhere."""


@pytest.fixture
def hub(monkeypatch, tmp_path):
    """A FakeHub on loopback, with the environment a hub user sets: HF_ENDPOINT, HF_TOKEN.
    huggingface_hub reads its other settings once at import, so they are patched: online
    (the test suite runs with HF_HUB_OFFLINE=1), no Xet (the double speaks LFS), and no
    token saved by a `hf auth login` on this machine."""
    from huggingface_hub import constants

    with RunningHub({WRITER_TOKEN: {"dart-lab", "alice"}, READER_TOKEN: set()}) as running:
        monkeypatch.setenv("HF_ENDPOINT", running.endpoint)
        monkeypatch.setenv("HF_TOKEN", WRITER_TOKEN)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
        monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-saved-token"))
        yield running.hub
