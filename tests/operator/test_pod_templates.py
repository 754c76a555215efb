"""Every pod the operator builds fits a locked-down GPU cluster: restricted Pod Security,
strictly valid, memory sized for its GPUs with a memory-backed /dev/shm, hf:// models fetched
once into the run's cache, and a multi-node learner whose ranks can meet."""

from __future__ import annotations

import copy

import pytest
from operator_kinds import EXAMPLES, SETTINGS, assert_valid, example_run, make_run
from pod_security import restricted_violations

from dart.config.load import SpecError
from dart_operator import jobs, naming, pods, servers
from dart_operator.assess import parse_context

HUB_SPEC = {
    "models": {"target": {"uri": "hf://Qwen/Qwen2.5-0.5B-Instruct@main"},
               "mapper": {"init": {"uri": "hf://org/mapper@v1"}}},
    "dataset": {"synthetic": {}},
}


def pod_templates(ctx) -> dict[str, dict]:
    found = {s: servers.deployment(ctx, s)["spec"]["template"] for s in naming.SERVERS}
    found |= {u.name: jobs.job(ctx, u, 3600)["spec"]["template"] for u in jobs.units(ctx.spec)}
    return found


def contexts():
    runs = [example_run(p) for p in EXAMPLES] + [make_run(), make_run(HUB_SPEC)]
    return [parse_context(r, SETTINGS) for r in runs]


@pytest.mark.parametrize("ctx", contexts(), ids=lambda c: f"{c.name}-{c.spec.models.target.uri}")
def test_every_pod_template_is_restricted_pss_clean_and_strictly_valid(ctx):
    for component, template in pod_templates(ctx).items():
        assert restricted_violations(template["spec"]) == [], component
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
               "spec": template["spec"]}
        assert_valid(pod)


def test_the_check_itself_catches_what_a_restricted_namespace_refuses():
    spec = copy.deepcopy(pod_templates(parse_context(make_run(), SETTINGS))["learn"]["spec"])
    spec.pop("securityContext")
    spec["containers"][0]["securityContext"] = {"allowPrivilegeEscalation": False}
    spec["volumes"].append({"name": "host", "hostPath": {"path": "/"}})
    problems = restricted_violations(spec)
    assert "main: capabilities.drop must include ALL" in problems
    assert "main: runAsNonRoot must be true (container or pod)" in problems
    assert "main: seccompProfile must be RuntimeDefault or Localhost" in problems
    assert "volume host: hostPath" in problems


def test_volumes_are_writable_by_the_image_user_and_home_is_not_the_image_filesystem():
    spec = pod_templates(parse_context(make_run(), SETTINGS))["sft-dart-0"]["spec"]
    assert spec["securityContext"]["fsGroup"] == pods.RUNTIME_UID
    assert spec["securityContext"]["runAsUser"] == pods.RUNTIME_UID
    main = spec["containers"][0]
    assert {"name": "home", "mountPath": "/home/dart"} in main["volumeMounts"]
    assert main["resources"]["requests"]["ephemeral-storage"]
    home = next(v for v in spec["volumes"] if v["name"] == "home")
    assert home["emptyDir"]["sizeLimit"] == main["resources"]["limits"]["ephemeral-storage"]


def test_gpu_pods_get_memory_for_their_gpus_and_a_memory_backed_shm():
    run = make_run()
    run["spec"]["resources"] = {"learner": {"gpus": 8}, "sft": {"gpus": 2, "memory": "40Gi"},
                                "evaluate": {"gpus": 0}}
    templates = pod_templates(parse_context(run, SETTINGS))
    learner = templates["learn"]["spec"]
    limits = learner["containers"][0]["resources"]["limits"]
    assert limits["memory"] == "192Gi" and limits["nvidia.com/gpu"] == "8"
    shm = next(v for v in learner["volumes"] if v["name"] == "dshm")["emptyDir"]
    assert shm == {"medium": "Memory", "sizeLimit": f"{8 * 4 * 1024}Mi"}
    sft = templates["sft-dart-0"]["spec"]
    assert sft["containers"][0]["resources"]["limits"]["memory"] == "40Gi"  # the user's own
    sft_shm = next(v for v in sft["volumes"] if v["name"] == "dshm")["emptyDir"]
    assert sft_shm["sizeLimit"] == f"{8 * 1024}Mi"  # 2 GPUs x 4Gi, within a quarter of 40Gi
    assert templates["evaluate"]["spec"]["containers"][0]["resources"]["limits"]["memory"] \
        == "4Gi"
    assert "dshm" not in {v["name"] for v in templates["evaluate"]["spec"]["volumes"]}


def test_hub_models_are_fetched_once_into_the_runs_cache_by_an_init_step():
    templates = pod_templates(parse_context(make_run(HUB_SPEC), SETTINGS))
    for component, template in templates.items():
        spec = template["spec"]
        (fetch,) = [c for c in spec["initContainers"] if c["name"] == "fetch-models"]
        assert fetch["command"][-2:] == ["Qwen/Qwen2.5-0.5B-Instruct@main", "org/mapper@v1"]
        fetch_env = {e["name"]: e.get("value") for e in fetch["env"]}
        assert fetch_env["HF_HOME"] == "/artifacts/cache/huggingface"
        assert "HF_HUB_OFFLINE" not in fetch_env
        main_env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
        assert main_env["HF_HOME"] == fetch_env["HF_HOME"], component
        assert main_env["HF_HUB_OFFLINE"] == "1", component
    names = [c["name"] for c in templates["learn"]["spec"]["initContainers"]]
    assert names == ["progress", "fetch-models"]


def test_hub_datasets_are_fetched_with_the_models():
    spec = {**HUB_SPEC, "dataset": {"file": {"path": "hf://datasets/org/demos@v2",
                                             "split": "train"}},
            "evaluate": {"sets": [{"name": "held", "file": {
                "path": "hf://datasets/org/held-out@abc123", "split": "test"}}]}}
    templates = pod_templates(parse_context(make_run(spec), SETTINGS))
    (fetch,) = [c for c in templates["learn"]["spec"]["initContainers"]
                if c["name"] == "fetch-models"]
    assert fetch["command"][-4:] == ["Qwen/Qwen2.5-0.5B-Instruct@main", "org/mapper@v1",
                                     "datasets/org/demos@v2", "datasets/org/held-out@abc123"]
    assert 'repo_type=kind' in fetch["command"][2]


def test_local_and_pvc_models_need_no_fetch():
    for ctx in [parse_context(make_run(), SETTINGS)]:
        for template in pod_templates(ctx).values():
            init = [c["name"] for c in template["spec"].get("initContainers", [])]
            assert "fetch-models" not in init
            env = {e["name"] for e in template["spec"]["containers"][0]["env"]}
            assert "HF_HUB_OFFLINE" not in env


def test_priority_class_from_the_operator_settings_on_every_pod():
    settings = SETTINGS.model_copy(update={"priority_class_name": "dart-training"})
    for template in pod_templates(parse_context(make_run(), settings)).values():
        assert template["spec"]["priorityClassName"] == "dart-training"
    assert all("priorityClassName" not in t["spec"]
               for t in pod_templates(parse_context(make_run(), SETTINGS)).values())


def test_a_multi_node_stage_on_a_read_write_once_volume_is_an_invalid_spec():
    run = make_run()
    run["spec"]["resources"] = {"learner": {"gpus": 4, "nodes": 2}}
    with pytest.raises(SpecError) as refused:
        parse_context(run, SETTINGS)
    assert str(refused.value).count(";") == 0  # one sentence
    assert "resources.learner.nodes is 2" in str(refused.value)
    assert "ReadWriteOnce" in str(refused.value)
    rwx = SETTINGS.model_copy(update={"artifacts_access_mode": "ReadWriteMany"})
    assert parse_context(run, rwx).resources_of("learn").nodes == 2
    run["spec"]["artifacts"] = {"existingClaim": "shared-rwx"}
    assert parse_context(run, SETTINGS).claim == "shared-rwx"


def test_two_nodes_of_four_gpus_give_every_pod_a_coherent_torchrun_and_rendezvous():
    run = make_run()
    run["spec"]["resources"] = {"learner": {"gpus": 4, "nodes": 2}}
    ctx = parse_context(run, SETTINGS.model_copy(update={"artifacts_access_mode":
                                                         "ReadWriteMany"}))
    service, job = jobs.stage_children(ctx, "learn", None)
    spec = job["spec"]
    assert (spec["completions"], spec["parallelism"], spec["completionMode"]) == (2, 2,
                                                                                  "Indexed")
    pod = spec["template"]["spec"]
    main = pod["containers"][0]
    command = main["command"]

    def arg(flag):
        return command[command.index(flag) + 1]

    dart_args = command[command.index("-m") + 1:][:3]
    assert command[0] == "torchrun" and dart_args == ["dart", "unit", "learn"]
    assert (arg("--nnodes"), arg("--nproc-per-node")) == ("2", "4")
    assert arg("--node-rank") == "$(JOB_COMPLETION_INDEX)"
    index_env = next(e for e in main["env"] if e["name"] == "JOB_COMPLETION_INDEX")
    assert "job-completion-index" in index_env["valueFrom"]["fieldRef"]["fieldPath"]
    # rank 0 is pod <job>-0 under the headless Service named as the pods' subdomain
    host, _, domain = arg("--master-addr").partition(".")
    assert host == f"{job['metadata']['name']}-0"
    assert domain == pod["subdomain"] == service["metadata"]["name"]
    assert service["spec"]["clusterIP"] == "None" and service["spec"]["publishNotReadyAddresses"]
    assert service["spec"]["selector"].items() <= spec["template"]["metadata"]["labels"].items()
    port = int(arg("--master-port"))
    assert {"name": "rendezvous", "port": port} in service["spec"]["ports"]
    assert main["resources"]["limits"]["nvidia.com/gpu"] == "4"
    assert main["resources"]["limits"]["memory"] == "96Gi"


@pytest.mark.parametrize(("quantity", "size"), [
    ("4Gi", 4 * 2**30), ("512Mi", 512 * 2**20), ("1G", 10**9), ("1.5Gi", 3 * 2**29),
    ("2000", 2000), ("4000m", 4)])
def test_memory_quantities_are_read_as_kubernetes_reads_them(quantity, size):
    assert pods.quantity_bytes(quantity) == size


def test_a_hub_export_runs_the_report_online_with_the_exports_token_and_nothing_else():
    spec = {**HUB_SPEC, "models": {**HUB_SPEC["models"], "target": {
        **HUB_SPEC["models"]["target"], "tokenSecret": {"name": "hf-read"}}},
        "export": {"uri": "hf://dart-lab/gsm", "tokenSecret": {"name": "hf-write", "key": "w"}}}
    templates = pod_templates(parse_context(make_run(spec), SETTINGS))
    for component, template in templates.items():
        env = {e["name"]: e for e in template["spec"]["containers"][0]["env"]}
        secret = env["HF_TOKEN"]["valueFrom"]["secretKeyRef"]
        if component == "report":
            assert "HF_HUB_OFFLINE" not in env
            assert secret == {"name": "hf-write", "key": "w"}
        else:  # the write token reaches only the pod that writes
            assert env["HF_HUB_OFFLINE"]["value"] == "1", component
            assert secret == {"name": "hf-read", "key": "token"}, component
    names = [e["name"] for e in templates["report"]["spec"]["containers"][0]["env"]]
    assert names.count("HF_TOKEN") == 1


def test_a_hub_export_without_its_own_secret_pushes_with_the_targets_token():
    spec = {**HUB_SPEC, "models": {**HUB_SPEC["models"], "target": {
        **HUB_SPEC["models"]["target"], "tokenSecret": {"name": "hf-token"}}},
        "export": {"uri": "hf://dart-lab/gsm"}}
    report = pod_templates(parse_context(make_run(spec), SETTINGS))["report"]
    env = {e["name"]: e for e in report["spec"]["containers"][0]["env"]}
    assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "hf-token"
    assert "HF_HUB_OFFLINE" not in env
