"""Desired children: every object valid for Kubernetes 1.29 and the newest, adopted,
labelled, scheduled on the right pool, running exactly the workload commands."""

from __future__ import annotations

import pytest
from operator_kinds import EXAMPLES, SETTINGS, assert_valid, example_run, make_run

from dart_operator import jobs, naming, servers, storage
from dart_operator.assess import parse_context
from dart_operator.pods import pvc_claims
from dart_operator.settings import Settings
from dart_operator.stages import KIND_OF_UNIT_STAGE

UNITS = ("learn", "synthesize", "sft-dart-0", "evaluate", "report")
"""One unit of each stage of the minimal run's plan."""


def context(run, settings=SETTINGS):
    return parse_context(run, settings)


def all_children(ctx):
    objs = [storage.config_map(ctx), *servers.server_children(ctx)]
    if claim := storage.artifacts_claim(ctx):
        objs.append(claim)
    for stage in UNITS:
        objs += jobs.stage_children(ctx, stage, deadline_seconds=3600)
    return objs


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_child_of_every_example_is_valid_kubernetes(path):
    ctx = context(example_run(path))
    objs = all_children(ctx)
    assert len(objs) >= 9
    for obj in objs:
        assert_valid(obj)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_child_is_adopted_and_labelled(path):
    run = example_run(path)
    ctx = context(run)
    for obj in all_children(ctx):
        meta = obj["metadata"]
        assert naming.is_owned_by(obj, run), meta["name"]
        assert meta["name"].startswith(f"{ctx.name}-")
        assert meta["namespace"] == ctx.namespace
        assert meta["labels"][naming.RUN_LABEL] == ctx.name
        assert meta["labels"][naming.STAGE_LABEL] in (*KIND_OF_UNIT_STAGE, "serve", "run")
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "dart-operator"


def test_names_are_deterministic_and_distinct():
    ctx = context(make_run())
    first = [(o["kind"], o["metadata"]["name"]) for o in all_children(ctx)]
    again = [(o["kind"], o["metadata"]["name"]) for o in all_children(context(make_run()))]
    assert first == again
    assert len(set(first)) == len(first)


def test_config_map_holds_a_loadable_run_document():
    import yaml

    from dart.config.load import parse_dartrun

    ctx = context(make_run())
    text = storage.config_map(ctx)["data"]["dartrun.yaml"]
    loaded = parse_dartrun(yaml.safe_load(text))
    assert loaded.spec == ctx.spec
    assert loaded.metadata.name == "demo"


def test_suspending_does_not_rewrite_the_config_workloads_read():
    run = make_run()
    before = storage.config_map(context(run))
    run["spec"]["suspend"] = True
    assert storage.config_map(context(run)) == before


def test_existing_claim_is_used_and_no_claim_is_created():
    spec = {**make_run()["spec"], "artifacts": {"existingClaim": "shared"}}
    ctx = context(make_run(spec))
    assert storage.artifacts_claim(ctx) is None
    job = jobs.job(ctx, "sft-dart-0")
    volumes = {v["name"]: v for v in job["spec"]["template"]["spec"]["volumes"]}
    assert volumes["artifacts"]["persistentVolumeClaim"]["claimName"] == "shared"


def test_created_claim_has_size_class_and_access_mode():
    spec = {**make_run()["spec"], "artifacts": {"size": "50Gi", "storageClassName": "fast"}}
    settings = SETTINGS.model_copy(update={"artifacts_access_mode": "ReadWriteMany"})
    claim = storage.artifacts_claim(context(make_run(spec), settings))
    assert claim["spec"] == {"accessModes": ["ReadWriteMany"], "storageClassName": "fast",
                             "resources": {"requests": {"storage": "50Gi"}}}


def gpu_ctx():
    return context(example_run(REPO_EXAMPLE("02-gsm-symbolic-gpu")))


def REPO_EXAMPLE(stem):  # noqa: N802 - reads like a constant lookup
    return next(p for p in EXAMPLES if p.stem == stem)


def test_servers_run_the_serve_command_with_probes_on_the_node_pool():
    ctx = gpu_ctx()
    deploy = servers.deployment(ctx, "generator")
    pod = deploy["spec"]["template"]["spec"]
    main = pod["containers"][0]
    assert main["command"] == ["dart", "serve", "generator", "--model",
                               "hf://Qwen/Qwen2.5-1.5B-Instruct@main", "--port", "50051",
                               "--metrics-port", "9090", "--adapter-slots", "2"]  # staleness 1
    assert main["startupProbe"]["grpc"] == {"port": 50051}
    assert main["startupProbe"]["failureThreshold"] * 10 >= 1800
    assert main["readinessProbe"]["grpc"] == {"port": 50051}
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert main["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod["nodeSelector"] == {"pool": "a100"}
    assert pod["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert pod["imagePullSecrets"] == [{"name": "operator-creds"}]
    assert main["image"] == "registry.example/dart:1.0"
    assert {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token",
                                                               "key": "token"}}} in main["env"]
    assert deploy["spec"]["strategy"] == {"type": "Recreate"}
    assert pod["automountServiceAccountToken"] is False


def test_scorer_serves_the_target_and_the_generator_the_mapper():
    spec = {**make_run()["spec"], "models": {"target": {"uri": "/m/t"},
                                              "mapper": {"init": {"uri": "/m/mapper"}}}}
    ctx = context(make_run(spec))
    assert servers.server_model(ctx, "generator") == "/m/mapper"
    assert servers.server_model(ctx, "scorer") == "/m/t"


def test_server_spec_change_changes_its_fingerprint():
    run = make_run()
    before = servers.deployment(context(run), "scorer")
    run["spec"]["resources"] = {"scorer": {"replicas": 3}}
    after = servers.deployment(context(run), "scorer")
    key = naming.SPEC_HASH_ANNOTATION
    assert before["metadata"]["annotations"][key] != after["metadata"]["annotations"][key]


def test_learn_job_runs_the_learner_against_both_servers_with_a_progress_sidecar():
    ctx = context(make_run())
    job = jobs.job(ctx, "learn")
    pod = job["spec"]["template"]["spec"]
    assert pod["containers"][0]["command"] == [
        "dart", "unit", "learn", "--config", "/etc/dart/dartrun.yaml", "--artifacts", "/artifacts",
        "--generator", "demo-generator:50051", "--scorer", "demo-scorer:50051",
        "--metrics-port", "9090"]
    assert {"name": "metrics", "containerPort": 9090} in pod["containers"][0]["ports"]
    sidecar = pod["initContainers"][0]
    assert sidecar["restartPolicy"] == "Always"
    assert sidecar["volumeMounts"][0]["readOnly"] is True
    assert pod["restartPolicy"] == "Never"
    assert pod["subdomain"] == "demo-learn"
    assert job["spec"]["backoffLimit"] == 3
    service = jobs.stage_children(ctx, "learn", None)[0]
    assert service["kind"] == "Service" and service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"] == naming.selector("demo", "learn")


def test_exit_code_policy_fails_on_program_errors_and_retries_signals():
    rules = jobs.job(context(make_run()), "sft-dart-0")["spec"]["podFailurePolicy"]["rules"]
    assert rules[0] == {"action": "Ignore",
                        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}
    codes = rules[1]["onExitCodes"]
    assert rules[1]["action"] == "FailJob" and codes["containerName"] == "main"
    assert codes["values"] == list(range(1, 128))


def test_exit_code_policy_can_be_turned_off_for_old_clusters():
    settings = SETTINGS.model_copy(update={"pod_failure_policy": False})
    assert "podFailurePolicy" not in jobs.job(context(make_run(), settings), "sft-dart-0")["spec"]


def test_synthesize_is_an_indexed_job_with_one_completion_per_shard():
    run = make_run()
    run["spec"]["synthesize"] = {"shards": 8, "parallelism": 3}
    job = jobs.job(context(run), "synthesize")
    assert (job["spec"]["completions"], job["spec"]["parallelism"]) == (8, 3)
    assert job["spec"]["completionMode"] == "Indexed"
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[command.index("--shard") + 1] == "$(JOB_COMPLETION_INDEX)/8"
    env = {e["name"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert "JOB_COMPLETION_INDEX" in env


def test_multi_gpu_sft_runs_one_process_per_gpu_under_torchrun():
    run = make_run()
    run["spec"]["resources"] = {"sft": {"gpus": 4}}
    ctx = context(run)
    command = jobs.job(ctx, "sft-dart-0")["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:5] == ["torchrun", "--nnodes", "1", "--nproc-per-node", "4"]
    assert command[command.index("-m"):][:3] == ["-m", "dart", "unit"]
    assert [o["kind"] for o in jobs.stage_children(ctx, "sft-dart-0", None)] == ["Service", "Job"]


def test_multi_node_learner_is_an_indexed_job_with_rendezvous_on_index_zero():
    ctx = context(example_run(REPO_EXAMPLE("03-own-data-kueue")))
    job = jobs.job(ctx, "learn")
    assert (job["spec"]["completions"], job["spec"]["parallelism"]) == (2, 2)
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[command.index("--master-addr") + 1] == "own-data-learn-0.own-data-learn"
    assert command[command.index("--nproc-per-node") + 1] == "8"
    assert command[command.index("--node-rank") + 1] == "$(JOB_COMPLETION_INDEX)"


def test_single_process_stages_have_no_launcher_and_no_service():
    ctx = context(make_run())
    assert jobs.launch(ctx, "sft-dart-0")[0] == "dart"
    for stage in ("synthesize", "sft-dart-0", "evaluate", "report"):
        children = jobs.stage_children(ctx, stage, None)
        assert [o["kind"] for o in children] == ["Job"]
        assert "subdomain" not in children[0]["spec"]["template"]["spec"]


def test_kueue_queue_labels_every_job_and_creates_it_suspended():
    ctx = context(example_run(REPO_EXAMPLE("03-own-data-kueue")))
    for stage in UNITS:
        job = jobs.job(ctx, stage)
        assert job["metadata"]["labels"][naming.KUEUE_QUEUE_LABEL] == "research-gpus"
        assert naming.KUEUE_QUEUE_LABEL not in job["spec"]["template"]["metadata"]["labels"]
        assert job["spec"]["suspend"] is True
    assert jobs.job(context(make_run()), "learn")["spec"]["suspend"] is False


def test_pvc_models_and_data_are_mounted_read_only():
    ctx = context(example_run(REPO_EXAMPLE("03-own-data-kueue")))
    assert pvc_claims(ctx.spec) == ["datasets", "model-cache"]
    pod = jobs.job(ctx, "sft-dart-0")["spec"]["template"]["spec"]
    mounts = {m["name"]: m for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["pvc-model-cache"] == {"name": "pvc-model-cache",
                                         "mountPath": "/pvc/model-cache", "readOnly": True}
    assert {"name": "DART_PVC_ROOT", "value": "/pvc"} in pod["containers"][0]["env"]
    assert pod["runtimeClassName"] == "nvidia" and "affinity" in pod
    assert pod["imagePullSecrets"] == [{"name": "operator-creds"}, {"name": "registry-creds"}]


def test_bucket_models_are_cached_on_the_artifacts_volume_for_every_workload():
    spec = {"models": {"target": {"uri": "s3://models/qwen"}}, "dataset": {"synthetic": {}}}
    cache = {"name": "DART_MODEL_CACHE", "value": "/artifacts/cache/models"}
    for unit in ("learn", "sft-dart-0", "evaluate"):
        assert cache in jobs.job(context(make_run(spec)), unit)["spec"]["template"]["spec"][
            "containers"][0]["env"], unit
    assert cache not in jobs.job(context(make_run()), "learn")["spec"]["template"]["spec"][
        "containers"][0]["env"]


def test_tracker_credentials_reach_every_workload_by_reference_only():
    spec = {**make_run()["spec"], "tracking": {"backend": "wandb", "secret": "tracker-creds"}}
    pod = jobs.job(context(make_run(spec)), "learn")["spec"]["template"]["spec"]
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["WANDB_API_KEY"] == {"name": "WANDB_API_KEY", "valueFrom": {"secretKeyRef": {
        "name": "tracker-creds", "key": "WANDB_API_KEY", "optional": True}}}
    assert all("value" not in env[n] for n in ("MLFLOW_TRACKING_URI", "WANDB_API_KEY"))
    plain = jobs.job(context(make_run()), "learn")["spec"]["template"]["spec"]
    assert "WANDB_API_KEY" not in {e["name"] for e in plain["containers"][0]["env"]}


def test_a_components_own_image_wins_over_the_default():
    run = make_run()
    run["spec"]["resources"] = {"evaluate": {"image": "mine:2"}}
    settings = Settings(image_server="server:1")
    ctx = context(run, settings)
    assert jobs.job(ctx, "evaluate")["spec"]["template"]["spec"]["containers"][0]["image"] \
        == "mine:2"
    assert servers.deployment(ctx, "scorer")["spec"]["template"]["spec"]["containers"][0][
        "image"] == "server:1"


def test_job_deadline_is_the_runs_remaining_time():
    job = jobs.job(context(make_run()), "evaluate", deadline_seconds=120)
    assert job["spec"]["activeDeadlineSeconds"] == 120


def test_inputs_hash_changes_only_with_the_stage_inputs():
    run = make_run()
    before = {s: jobs.inputs_hash(context(run).spec, s) for s in UNITS}
    run["spec"]["sft"] = {"epochs": 3}
    run["spec"]["resources"] = {"sft": {"gpus": 2}}
    after = {s: jobs.inputs_hash(context(run).spec, s) for s in UNITS}
    assert before["learn"] == after["learn"] and before["synthesize"] == after["synthesize"]
    assert before["sft-dart-0"] != after["sft-dart-0"] and before["evaluate"] != after["evaluate"]


def test_network_policy_fences_a_runs_servers_to_its_own_callers():
    assert not [o for o in servers.server_children(context(make_run()))
                if o["kind"] == "NetworkPolicy"]  # opt-in
    ctx = context(make_run(), Settings(network_policy=True))
    (policy,) = [o for o in servers.server_children(ctx) if o["kind"] == "NetworkPolicy"]
    assert_valid(policy)
    selected = policy["spec"]["podSelector"]["matchLabels"]
    server_pod = servers.deployment(ctx, "generator")["spec"]["template"]["metadata"]["labels"]
    assert selected.items() <= server_pod.items()
    grpc_rule, metrics_rule = policy["spec"]["ingress"]
    (peer,) = grpc_rule["from"]
    assert peer["podSelector"]["matchLabels"] == {naming.RUN_LABEL: ctx.name}
    callers = peer["podSelector"]["matchExpressions"][0]["values"]
    assert callers == ["learn", "synthesize", "direct-rl"]
    learner_pod = jobs.job(ctx, "learn")["spec"]["template"]["metadata"]["labels"]
    other_run = context(make_run(name="other"), Settings(network_policy=True))
    other_learner = jobs.job(other_run, "learn")["spec"]["template"]["metadata"]["labels"]
    assert peer["podSelector"]["matchLabels"].items() <= learner_pod.items()
    assert not peer["podSelector"]["matchLabels"].items() <= other_learner.items()
    assert "from" not in metrics_rule
