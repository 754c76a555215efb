"""How the operator learns how far the learner is.

The learner writes `/artifacts/learn/progress.json` (atomically) on the artifacts volume,
which the operator cannot mount. Rather than giving workloads API credentials (to publish
progress as an annotation) or parsing logs, each learner pod runs a tiny read-only native
sidecar that serves that one file over HTTP; the operator polls it through the learner's
headless Service on every resync. Only the file is served, never the rest of the volume.
A missing or unreachable file keeps the last known progress: progress is informative, never
a reason to fail a run. (This module describes the mechanism; `reconcile` does the polling.)
"""

from __future__ import annotations

from typing import Any

PROGRESS_PORT = 8000
PROGRESS_FILE = "/artifacts/learn/progress.json"

# Run by the workload image's Python in the sidecar; standard library only. Kept short so it
# reads as a constant, and tested by running it (tests/operator/test_progress.py).
SIDECAR_SCRIPT = """\
import http.server, os, pathlib
path = pathlib.Path(os.environ.get("DART_PROGRESS_FILE", "/artifacts/learn/progress.json"))
class Progress(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        found = self.path == "/progress.json" and path.is_file()
        body = path.read_bytes() if found else b"{}"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
port = int(os.environ.get("DART_PROGRESS_PORT", "8000"))
http.server.ThreadingHTTPServer(("", port), Progress).serve_forever()
"""

def sidecar(image: str, pull_policy: str) -> dict[str, Any]:
    """Native sidecar (an init container that keeps running): it stops with the learner, so
    the Job still completes when the main container exits."""
    return {
        "name": "progress",
        "image": image,
        "imagePullPolicy": pull_policy,
        "restartPolicy": "Always",
        "command": ["python", "-c", SIDECAR_SCRIPT],
        "env": [
            {"name": "DART_PROGRESS_FILE", "value": PROGRESS_FILE},
            {"name": "DART_PROGRESS_PORT", "value": str(PROGRESS_PORT)},
        ],
        "ports": [{"name": "progress", "containerPort": PROGRESS_PORT, "protocol": "TCP"}],
        "resources": {
            "requests": {"cpu": "10m", "memory": "32Mi"},
            "limits": {"memory": "64Mi"},
        },
        "volumeMounts": [{"name": "artifacts", "mountPath": "/artifacts", "readOnly": True}],
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True},
    }


def progress_url(template: str, service: str, namespace: str) -> str:
    return template.format(service=service, namespace=namespace, port=PROGRESS_PORT)


def stage_progress(raw: dict[str, Any]) -> dict[str, Any]:
    """The learner's progress.json as status.progress (camelCase, percent computed)."""
    step, total = raw.get("step"), raw.get("total")
    out = {
        "step": step,
        "total": total,
        "percent": int(100 * step / total) if step is not None and total else None,
        "etaSeconds": None if raw.get("eta_seconds") is None else int(raw["eta_seconds"]),
        "rewardMean": raw.get("reward_mean"),
        "answerPreservation": raw.get("answer_preservation"),
    }
    return {key: value for key, value in out.items() if value is not None}
