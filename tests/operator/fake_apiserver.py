"""A small fake Kubernetes API server over real HTTP, for running the real kopf operator.

kmock 0.8's emulator keeps objects but gives no resourceVersion or generation, no status
subresource, no label selectors, no watch-from-version and no garbage collection; patching
all of that into its internals was more code than this purpose-built server. It implements
what the operator and kopf use, with the API server's semantics:

- discovery (`/api`, `/apis`, group versions) for the resources below;
- list (label selectors), watch (from a resourceVersion, newline-delimited JSON events),
  get, create (409 AlreadyExists), replace (409 on a stale resourceVersion), delete;
- JSON merge patch and JSON patch; a dict sent as JSON patch is a 400, as on a real server;
- `/status` subresources: writes to the object ignore status, writes to /status ignore the
  rest; `metadata.generation` moves only when something outside metadata and status changes;
- finalizers and deletionTimestamp; background garbage collection through ownerReferences;
- bearer-token authentication; every request recorded as (group, resource, verb);
- as strict as a real server where the operator could go wrong: names follow the API's rules
  (DNS-1035 labels for Services, DNS-1123 elsewhere), built-in objects are schema-checked on
  write (unknown fields are errors), DartRuns are checked against the committed CRD, and a
  test can inject errors (403 quota, 422 admission) per resource and verb;
- Pod Security admission for namespaces labelled `pod-security.kubernetes.io/enforce:
  restricted`: a Pod that breaks the profile is a 403; a Deployment or Job whose template
  would is stored with a warning (recorded in `pss_warnings`), as a real server does;
- optionally OwnerReferencesPermissionEnforcement (OpenShift's default): setting
  `blockOwnerDeletion` needs `update` on the owner's `finalizers` subresource.

Tests play the controllers through `patch_status`/`create`/`delete` from any thread; those
changes are not recorded as requests.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from fake_validation import invalid_reason
from pod_security import restricted_violations

RESOURCES = {
    # (group, version, plural): (kind, namespaced)
    ("", "v1", "configmaps"): ("ConfigMap", True),
    ("", "v1", "persistentvolumeclaims"): ("PersistentVolumeClaim", True),
    ("", "v1", "services"): ("Service", True),
    ("", "v1", "pods"): ("Pod", True),
    ("", "v1", "events"): ("Event", True),
    ("", "v1", "namespaces"): ("Namespace", False),
    ("apps", "v1", "deployments"): ("Deployment", True),
    ("batch", "v1", "jobs"): ("Job", True),
    ("networking.k8s.io", "v1", "networkpolicies"): ("NetworkPolicy", True),
    ("policy", "v1", "poddisruptionbudgets"): ("PodDisruptionBudget", True),
    ("dart.ai", "v1alpha1", "dartruns"): ("DartRun", True),
    ("apiextensions.k8s.io", "v1", "customresourcedefinitions"):
        ("CustomResourceDefinition", False),
}
WITH_STATUS = {"dartruns", "deployments", "jobs", "pods", "persistentvolumeclaims", "services"}
PLURALS = {kind: key for key, (kind, _) in RESOURCES.items()}
TOKEN = "fake-token"


@dataclass(frozen=True)
class Call:
    """One recorded request, named as RBAC names it."""

    method: str
    path: str
    group: str
    resource: str
    verb: str
    namespace: str | None
    name: str | None


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(target: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 JSON patch: add, replace, remove, test."""
    doc = copy.deepcopy(target)
    for op in ops:
        *parents, last = [p.replace("~1", "/").replace("~0", "~")
                          for p in op["path"].lstrip("/").split("/")]
        node = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if op["op"] == "test":
            if node.get(last) != op["value"]:
                raise ValueError(f"test failed at {op['path']}")
        elif op["op"] == "remove":
            node.pop(last) if isinstance(node, dict) else node.pop(int(last))
        elif isinstance(node, list):
            node.append(op["value"]) if last == "-" else node.insert(int(last), op["value"])
        else:
            node[last] = copy.deepcopy(op["value"])
    return doc


def matches(obj: dict[str, Any], selector: str | None) -> bool:
    """Equality (`k=v`, `k!=v`) and existence (`k`, `!k`) label selectors."""
    labels = obj.get("metadata", {}).get("labels") or {}
    for term in filter(None, (selector or "").split(",")):
        if "!=" in term:
            key, value = term.split("!=", 1)
            ok = labels.get(key) != value
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            ok = labels.get(key) == value
        elif term.startswith("!"):
            ok = term[1:] not in labels
        else:
            ok = term in labels
        if not ok:
            return False
    return True


def status_error(code: int, reason: str, message: str) -> web.Response:
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code,
            "reason": reason, "message": message}
    return web.json_response(body, status=code)


def _outside_meta_and_status(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


@dataclass
class Fault:
    """An error the server answers instead of serving a request (a quota, a webhook)."""

    resource: str
    verb: str
    code: int
    message: str
    times: int | None = None
    """How many requests fail; None: until `clear_faults()`."""

    @property
    def reason(self) -> str:
        return {403: "Forbidden", 422: "Invalid", 500: "InternalError"}.get(self.code, "Error")


class FakeApiServer:
    """The fake API server, run in a thread of its own (`start()` / `stop()`)."""

    def __init__(self, granted: set[tuple[str, str, str]] | None = None) -> None:
        """`granted`: (group, resource, verb) the client may use; None grants everything.
        With a set, OwnerReferencesPermissionEnforcement applies as well."""
        self.granted = granted
        self.faults: list[Fault] = []
        self.pss_warnings: list[str] = []
        self.objects: dict[tuple[str, str, str | None, str], dict[str, Any]] = {}
        self.log: list[tuple[int, str, str, dict[str, Any]]] = []
        self.calls: list[Call] = []
        self.progress: dict[tuple[str, str], dict[str, Any]] = {}
        self.revision = 0
        self.loop = asyncio.new_event_loop()
        self.changed: asyncio.Condition | None = None
        self.port = 0
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeApiServer:
        self._thread.start()
        self.port = self.run(self._serve())
        return self

    def stop(self) -> None:
        self.run(self._runner.cleanup())
        self.run(self._cancel_streams())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()

    async def _cancel_streams(self) -> None:
        """Watches still open when the clients went: end them inside their own loop."""
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    async def _serve(self) -> int:
        self.changed = asyncio.Condition()
        app = web.Application()
        app.router.add_get("/_progress/{namespace}/{service}", self._progress)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return site._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ test-side access

    def inject(self, resource: str, verb: str, code: int, message: str,
               times: int | None = None) -> None:
        """Answer `verb` on `resource` (a plural, e.g. "deployments") with an error."""
        self.faults.append(Fault(resource, verb, code, message, times))

    def clear_faults(self) -> None:
        self.faults.clear()

    def _fault(self, resource: str, verb: str) -> Fault | None:
        for fault in self.faults:
            if (fault.resource, fault.verb) == (resource, verb) and fault.times != 0:
                if fault.times is not None:
                    fault.times -= 1
                return fault
        return None

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        group, _, plural = PLURALS[kind]
        found = self.objects.get((group, plural, namespace, name))
        return copy.deepcopy(found) if found else None

    def list(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        group, _, plural = PLURALS[kind]
        return [copy.deepcopy(o) for (g, p, ns, _), o in sorted(self.objects.items(),
                key=lambda kv: kv[0][3])
                if (g, p) == (group, plural) and (namespace is None or ns == namespace)]

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create as a user would (a DartRun is checked against the CRD first)."""
        if obj.get("kind") == "DartRun" and (why := invalid_reason(obj)):
            raise ValueError(why)
        return self.run(self._locked(self._create, obj))

    def patch(self, kind: str, namespace: str, name: str, patch: dict[str, Any], *,
              status: bool = False) -> dict[str, Any]:
        return self.run(self._locked(self._patch_merge, kind, namespace, name, patch, status))

    def patch_status(self, kind: str, namespace: str, name: str,
                     status: dict[str, Any]) -> dict[str, Any]:
        """What a controller does: write the status subresource."""
        return self.patch(kind, namespace, name, {"status": status}, status=True)

    def delete(self, kind: str, namespace: str, name: str) -> None:
        group, _, plural = PLURALS[kind]
        self.run(self._locked(self._delete, (group, plural, namespace, name)))

    # ------------------------------------------------------------------ storage

    async def _locked(self, fn: Any, *args: Any) -> Any:
        assert self.changed is not None
        async with self.changed:
            result = fn(*args)
            self.changed.notify_all()
            return result

    def _bump(self, key: tuple, obj: dict[str, Any], event: str) -> dict[str, Any]:
        self.revision += 1
        obj["metadata"]["resourceVersion"] = str(self.revision)
        self.log.append((self.revision, event, f"{key[0]}/{key[1]}", copy.deepcopy(obj)))
        return copy.deepcopy(obj)

    def _create(self, obj: dict[str, Any], key: tuple | None = None) -> dict[str, Any]:
        if key is None:
            group, _, plural = PLURALS[obj["kind"]]
            key = (group, plural, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        plural = key[1]
        if key in self.objects:
            raise web.HTTPConflict(reason="AlreadyExists")
        stored = copy.deepcopy(obj)
        stored["metadata"].update(
            uid=str(uuid.uuid4()), generation=1,
            creationTimestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        if plural in WITH_STATUS:
            stored["status"] = {}
        self.objects[key] = stored
        return self._bump(key, stored, "ADDED")

    def _write(self, key: tuple, new: dict[str, Any], subresource: str | None) -> dict:
        """Store a new version: status-only for /status, everything but status otherwise."""
        old = self.objects[key]
        if key[1] in WITH_STATUS:
            if subresource == "status":
                new = {**old, "status": new.get("status", {})}
            else:
                new = {**new, "status": old.get("status", {})}
        new["metadata"] = {**new["metadata"], **{
            k: old["metadata"][k] for k in ("uid", "creationTimestamp", "generation")}}
        if _outside_meta_and_status(new) != _outside_meta_and_status(old):
            new["metadata"]["generation"] = old["metadata"]["generation"] + 1
        meta = new["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            return self._remove(key)
        self.objects[key] = new
        return self._bump(key, new, "MODIFIED")

    def _patch_merge(self, kind: str, namespace: str, name: str, patch: dict,
                     status: bool) -> dict[str, Any]:
        group, _, plural = PLURALS[kind]
        key = (group, plural, namespace, name)
        return self._write(key, merge_patch(self.objects[key], patch),
                           "status" if status else None)

    def _remove(self, key: tuple) -> dict[str, Any]:
        obj = self.objects.pop(key)
        result = self._bump(key, obj, "DELETED")
        self._collect_garbage(obj["metadata"]["uid"])
        return result

    def _collect_garbage(self, owner_uid: str) -> None:
        """The garbage collector (background propagation): dependents follow their owner."""
        for key, obj in list(self.objects.items()):
            refs = obj["metadata"].get("ownerReferences") or []
            if key in self.objects and any(r.get("uid") == owner_uid for r in refs):
                self._delete(key)

    def _delete(self, key: tuple) -> dict[str, Any]:
        obj = self.objects[key]
        if obj["metadata"].get("finalizers"):
            if not obj["metadata"].get("deletionTimestamp"):
                obj["metadata"]["deletionTimestamp"] = datetime.now(UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ")
                return self._bump(key, obj, "MODIFIED")
            return copy.deepcopy(obj)
        return self._remove(key)

    # ------------------------------------------------------------------ HTTP

    async def _progress(self, request: web.Request) -> web.Response:
        key = (request.match_info["namespace"], request.match_info["service"])
        if key not in self.progress:
            return web.json_response({}, status=404)
        return web.json_response(self.progress[key])

    def _parse(self, path: str) -> tuple[str, str, str | None, str | None, str | None, str]:
        """URL -> (group, plural, namespace, name, subresource, version)."""
        parts = path.strip("/").split("/")
        if parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        else:
            group, version, rest = parts[1], parts[2], parts[3:]
        namespace = None
        if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) != 2:
            namespace, rest = rest[1], rest[2:]
        plural, name, sub = (rest + [None, None])[:3]
        return group, plural, namespace, name, sub, version

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return status_error(401, "Unauthorized", "missing or wrong bearer token")
        path = request.path.rstrip("/")
        segments = path.strip("/").split("/")
        if path == "/version" or len(segments) <= (2 if segments[0] == "api" else 3):
            return self._discovery(path)
        group, plural, namespace, name, sub, version = self._parse(path)
        if (group, version, plural) not in RESOURCES:
            return status_error(404, "NotFound", f"the server could not find {path}")
        watching = request.query.get("watch") in ("true", "1")
        verb = self._verb(request.method, name, watching)
        resource = f"{plural}/{sub}" if sub else plural
        body = await request.json() if request.can_read_body else None
        named = name or (body or {}).get("metadata", {}).get("name") if verb == "create" else name
        self.calls.append(Call(request.method, path, group, resource, verb, namespace, named))
        if refused := self._refusal(group, resource, verb, body):
            return refused
        try:
            return await self._serve_verb(request, verb, (group, plural, namespace, name), sub,
                                          body)
        except web.HTTPConflict as error:
            return status_error(409, error.reason, f"{plural} {name}: {error.reason}")
        except KeyError:
            return status_error(404, "NotFound", f'{plural} "{name}" not found')
        except (ValueError, TypeError) as error:
            return status_error(400, "BadRequest", str(error))

    def _refusal(self, group: str, resource: str, verb: str, body: Any) -> web.Response | None:
        """What a real server answers before storing anything: RBAC, injected faults,
        owner-reference enforcement, invalid names and schemas."""
        if self.granted is not None and (group, resource, verb) not in self.granted:
            return status_error(403, "Forbidden", f"cannot {verb} resource {resource!r} in "
                                f"API group {group!r}")
        if fault := self._fault(resource, verb):
            return status_error(fault.code, fault.reason, fault.message)
        if verb not in ("create", "update") or not isinstance(body, dict):
            return None
        if self.granted is not None and (why := self._owner_refs_forbidden(body)):
            return status_error(403, "Forbidden", why)
        if why := invalid_reason(body):
            return status_error(422, "Invalid", why)
        return self._pod_security(body)

    def _pod_security(self, body: dict[str, Any]) -> web.Response | None:
        """PodSecurity admission: enforced on Pods, a warning for workload templates."""
        namespace = self.objects.get(("", "namespaces", None, body["metadata"].get("namespace")))
        labels = (namespace or {}).get("metadata", {}).get("labels") or {}
        if labels.get("pod-security.kubernetes.io/enforce") != "restricted":
            return None
        kind = body.get("kind")
        pod = body.get("spec") if kind == "Pod" else \
            (body.get("spec") or {}).get("template", {}).get("spec")
        if kind not in ("Pod", "Deployment", "Job") or not pod:
            return None
        if problems := restricted_violations(pod):
            message = (f'{kind} {body["metadata"]["name"]}: would violate PodSecurity '
                       f'"restricted:latest": {"; ".join(problems)}')
            if kind == "Pod":
                return status_error(403, "Forbidden", message)
            self.pss_warnings.append(message)
        return None

    def _owner_refs_forbidden(self, body: dict[str, Any]) -> str | None:
        """OwnerReferencesPermissionEnforcement: blockOwnerDeletion needs update on the
        owner's finalizers."""
        for ref in body.get("metadata", {}).get("ownerReferences") or []:
            if not ref.get("blockOwnerDeletion"):
                continue
            group = ref["apiVersion"].rpartition("/")[0]
            plural = PLURALS.get(ref["kind"], ("", "", ref["kind"].lower() + "s"))[2]
            if (group, f"{plural}/finalizers", "update") not in self.granted:
                return (f"{body.get('kind')} {body['metadata'].get('name')!r} is forbidden: "
                        f"cannot set blockOwnerDeletion if an ownerReference refers to a "
                        f"resource you can't set finalizers on")
        return None

    @staticmethod
    def _verb(method: str, name: str | None, watching: bool) -> str:
        if method == "GET":
            return "get" if name else "watch" if watching else "list"
        return {"POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete" if name else "deletecollection"}[method]

    async def _serve_verb(self, request: web.Request, verb: str, key: tuple,
                          sub: str | None, body: Any) -> web.StreamResponse:
        group, plural, namespace, name = key
        if verb == "list":
            return web.json_response(self._list(group, plural, namespace,
                                                request.query.get("labelSelector")))
        if verb == "watch":
            return await self._watch(request, group, plural, namespace)
        if verb == "get":
            return web.json_response(copy.deepcopy(self.objects[key]))
        if verb == "create":
            meta = body.setdefault("metadata", {})
            meta["namespace"] = namespace
            if "name" not in meta and "generateName" in meta:
                meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
            key = (group, plural, namespace, meta["name"])
            created = await self._locked(self._create, body, key)
            return web.json_response(created, status=201)
        if verb == "delete":
            return web.json_response(await self._locked(self._delete, key))
        return web.json_response(await self._locked(self._update, request, key, body, sub))

    def _update(self, request: web.Request, key: tuple, body: Any, sub: str | None) -> dict:
        old = self.objects[key]
        if request.method == "PUT":
            wanted = body["metadata"].get("resourceVersion")
            if wanted and wanted != old["metadata"]["resourceVersion"]:
                raise web.HTTPConflict(reason="Conflict")
            return self._write(key, body, sub)
        kind = request.content_type
        if kind == "application/json-patch+json":
            if not isinstance(body, list):
                raise ValueError("json patch must be a list of operations")
            return self._write(key, json_patch(old, body), sub)
        if kind in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
            return self._write(key, merge_patch(old, body), sub)
        raise ValueError(f"unsupported patch type {kind}")

    def _list(self, group: str, plural: str, namespace: str | None,
              selector: str | None) -> dict[str, Any]:
        items = [copy.deepcopy(o) for (g, p, ns, _), o in self.objects.items()
                 if (g, p) == (group, plural) and namespace in (None, ns) and matches(o, selector)]
        kind = next(k for (g, _, p), (k, _) in RESOURCES.items() if (g, p) == (group, plural))
        return {"kind": f"{kind}List", "apiVersion": "v1", "items": items,
                "metadata": {"resourceVersion": str(self.revision)}}

    async def _watch(self, request: web.Request, group: str, plural: str,
                     namespace: str | None) -> web.StreamResponse:
        """Stream events after `resourceVersion` until the client goes or the timeout ends."""
        assert self.changed is not None
        since = int(request.query.get("resourceVersion") or self.revision)
        timeout = float(request.query.get("timeoutSeconds") or 3600)
        selector = request.query.get("labelSelector")
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        deadline = self.loop.time() + timeout
        try:
            while self.loop.time() < deadline:
                for revision, event, resource, obj in [e for e in self.log if e[0] > since]:
                    since = revision
                    ns = obj["metadata"].get("namespace")
                    if resource == f"{group}/{plural}" and namespace in (None, ns) and \
                            matches(obj, selector):
                        line = json.dumps({"type": event, "object": obj}) + "\n"
                        await response.write(line.encode())
                async with self.changed:
                    if not any(e[0] > since for e in self.log):
                        try:
                            await asyncio.wait_for(self.changed.wait(),
                                                   deadline - self.loop.time())
                        except TimeoutError:
                            break
        except (ConnectionResetError, asyncio.CancelledError):
            return response
        return response

    def _discovery(self, path: str) -> web.Response:
        if path == "/version":
            return web.json_response({"major": "1", "minor": "29", "gitVersion": "v1.29.0"})
        if path == "/api":
            return web.json_response({"kind": "APIVersions", "versions": ["v1"]})
        if path == "/apis":
            groups = sorted({g for g, _, _ in RESOURCES if g})
            return web.json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v}
                                         for gg, v, _ in RESOURCES if gg == g][:1],
                 "preferredVersion": {"groupVersion": f"{g}/{v}", "version": v}}
                for g in groups for v in [next(v for gg, v, _ in RESOURCES if gg == g)]]})
        return self._resource_list(path)

    def _resource_list(self, path: str) -> web.Response:
        parts = path.strip("/").split("/")
        group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
        resources = []
        for (g, v, plural), (kind, namespaced) in RESOURCES.items():
            if (g, v) != (group, version):
                continue
            verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
            resources.append({"name": plural, "singularName": kind.lower(), "kind": kind,
                              "namespaced": namespaced, "verbs": verbs})
            if plural in WITH_STATUS:
                resources.append({"name": f"{plural}/status", "singularName": "", "kind": kind,
                                  "namespaced": namespaced, "verbs": ["get", "patch", "update"]})
        if not resources:
            return status_error(404, "NotFound", f"no group version {path}")
        return web.json_response({"kind": "APIResourceList", "apiVersion": "v1",
                                  "groupVersion": f"{group}/{version}".lstrip("/"),
                                  "resources": resources})
