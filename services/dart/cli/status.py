"""`dart status`: where a DartRun in a cluster stands, and what it found.

    dart status quickstart -n research

Reads the DartRun and its Jobs with your kubeconfig ($KUBECONFIG or ~/.kube/config; the
namespace defaults to the context's): the phase, one line per stage condition, one per unit
of the plan (its Job's state), the running stage's progress and ETA, and once the report
unit is done the results summary (status.results). The full report is report/ in the run's
artifacts volume; the README says how to copy it out.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from dart.config.spec import API_VERSION
from dart.config.status import DartRunStatus, ResultsSummary
from dart.errors import UserError

GROUP, VERSION = API_VERSION.split("/")
RUN_LABEL = "dart.ai/run"
STAGE_CONDITIONS = ("Learned", "Synthesized", "FineTuned", "Evaluated")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status", help="where a DartRun in the cluster stands, and its results",
        description="Print a DartRun's stages, units, progress, ETA and results.")
    parser.add_argument("name", help="DartRun name")
    parser.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    run_obj, jobs = asyncio.run(fetch(args.name, args.namespace))
    print("\n".join(render(run_obj, jobs)))
    return 0


async def fetch(name: str, namespace: str | None) -> tuple[dict, list[dict]]:
    """The DartRun and the Jobs labelled with its name."""
    from kubernetes_asyncio import client, config
    from kubernetes_asyncio.client.exceptions import ApiException

    cfg = client.Configuration()
    try:
        await config.load_kube_config(config_file=os.environ.get("KUBECONFIG"),
                                      client_configuration=cfg)
    except (config.ConfigException, FileNotFoundError, TypeError) as error:
        raise UserError(f"no usable kubeconfig ({error}): set KUBECONFIG or run "
                        "`kubectl config use-context`") from None
    namespace = namespace or _context_namespace()
    async with client.ApiClient(cfg) as api:
        try:
            run_obj = await client.CustomObjectsApi(api).get_namespaced_custom_object(
                GROUP, VERSION, namespace, "dartruns", name)
            found = await client.BatchV1Api(api).list_namespaced_job(
                namespace, label_selector=f"{RUN_LABEL}={name}")
        except ApiException as error:
            if error.status == 404:
                raise UserError(f"no DartRun {name!r} in namespace {namespace!r}: check "
                                "`kubectl get dartruns -n NAMESPACE`") from None
            raise UserError(f"the cluster refused to show DartRun {name!r} "
                            f"({error.status} {error.reason}); check your access") from None
    return run_obj, [api.sanitize_for_serialization(job) for job in found.items]


def _context_namespace() -> str:
    from kubernetes_asyncio.config import list_kube_config_contexts

    try:
        _, active = list_kube_config_contexts(config_file=os.environ.get("KUBECONFIG"))
    except Exception:  # noqa: BLE001  (any unreadable kubeconfig: fall back as kubectl does)
        return "default"
    return (active or {}).get("context", {}).get("namespace") or "default"


def job_state(job: dict) -> str:
    status = job.get("status") or {}
    holds = {c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"}
    if "Complete" in holds:
        return "Succeeded"
    if "Failed" in holds:
        return "Failed"
    if (job.get("spec") or {}).get("suspend"):
        return "Queued"
    return "Running" if status.get("active") else "Pending"


def _eta(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    return f", ETA {minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else \
        f", ETA {minutes}m{secs:02d}s"


def render(run_obj: dict, jobs: list[dict]) -> list[str]:
    """The lines `dart status` prints."""
    status = DartRunStatus.model_validate(run_obj.get("status") or {})
    name = run_obj["metadata"]["name"]
    lines = [f"DartRun {name}: {status.phase or 'Pending'} (stage {status.stage or '-'})"]
    conditions = {c.type: c for c in status.conditions}
    lines += ["", "stage conditions:"]
    for kind in STAGE_CONDITIONS:
        cond = conditions.get(kind)
        mark = "done" if cond and cond.status == "True" else (cond.reason if cond else "-")
        lines.append(f"  {kind:<12} {mark}")
    prefix = f"{name}-"
    lines += ["", "units (Jobs):"]
    for job in sorted(jobs, key=lambda j: j["metadata"].get("creationTimestamp") or ""):
        unit = job["metadata"]["name"].removeprefix(prefix)
        lines.append(f"  {unit:<22} {job_state(job)}")
    if status.progress and status.progress.percent is not None:
        p = status.progress
        steps = f" ({p.step}/{p.total})" if p.total else ""
        lines += ["", f"progress: {p.percent}%{steps}{_eta(p.eta_seconds)}"]
    if failed := conditions.get("Failed"):
        if failed.status == "True":
            lines += ["", f"failed: {failed.reason}: {failed.message}"]
    lines += ["", *results_lines(status.results)]
    return lines


def results_lines(results: ResultsSummary | None) -> list[str]:
    if results is None:
        return ["results: not yet (the report unit writes them)"]
    sets = sorted({s for scores in results.arms.values() for s in scores})
    lines = ["results (accuracy, mean ± std over seeds):",
             "  " + f"{'arm':<14}" + "".join(f"{s:>22}" for s in sets)]
    for arm, scores in results.arms.items():
        cells = [f"{scores[s].mean:.3f} ± {scores[s].std:.3f} ({len(scores[s].seeds)})"
                 if s in scores else "-" for s in sets]
        lines.append("  " + f"{arm:<14}" + "".join(f"{c:>22}" for c in cells))
    return lines + [f"headline: {results.headline}", f"verdict: {results.verdict}"]
