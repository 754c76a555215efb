"""One test per values branch: what the chart renders when an option is off, and when on."""

from __future__ import annotations

import json

import yaml
from chart_manifests import CHART, CI_VALUES, NAMESPACE, find, one, operator_env, run_helm
from run_children import child_pods, gpu_run_spec

from dart_operator import naming
from dart_operator.settings import Settings, load_settings

GPU_POOL = {
    "nodeSelector": {"gpu": "a100"},
    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "zone", "operator": "In", "values": ["a"]}]}]}}},
    "runtimeClassName": "nvidia",
    "gpuResource": "nvidia.com/mig-3g.40gb",
}


def operator_pod(docs: list[dict]) -> dict:
    return one(docs, "Deployment")["spec"]["template"]["spec"]


# ----------------------------------------------------------------------------- monitoring


def test_no_monitors_or_dashboard_by_default(render):
    docs = render()
    assert not find(docs, "ServiceMonitor") and not find(docs, "PodMonitor")
    assert not find(docs, "ConfigMap")


def test_monitors_when_enabled_carry_additional_labels(render):
    docs = render({"metrics": {"serviceMonitor": {
        "enabled": True, "additionalLabels": {"release": "kube-prometheus-stack"}}}})
    for kind in ("ServiceMonitor", "PodMonitor"):
        monitor = one(docs, kind)
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_service_monitor_selects_the_operator_service(render):
    docs = render({"metrics": {"serviceMonitor": {"enabled": True}}})
    service = one(docs, "Service")
    selector = one(docs, "ServiceMonitor")["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert [p["name"] for p in service["spec"]["ports"]] == ["metrics"]


def test_pod_monitor_selects_workload_pods_by_the_operators_labels(render):
    """The selector matches the labels naming.py gives children, on the servers' port."""
    monitor = one(render({"metrics": {"serviceMonitor": {"enabled": True}}}), "PodMonitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= naming.labels("run", "generator", "serve").items()
    assert monitor["spec"]["namespaceSelector"] == {"any": True}
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    pods = child_pods(Settings(), gpu_run_spec())
    server_ports = {p["name"] for p in pods["r-generator"]["containers"][0]["ports"]}
    assert endpoint["port"] in server_ports and endpoint["port"] == "metrics"


def test_pod_monitor_follows_watched_namespaces(render):
    docs = render({"operator": {"watchNamespaces": ["team-a"]},
                   "metrics": {"serviceMonitor": {"enabled": True}}})
    selector = one(docs, "PodMonitor")["spec"]["namespaceSelector"]
    assert selector == {"matchNames": ["team-a"]}


def test_no_prometheus_rule_by_default(render):
    assert not find(render(), "PrometheusRule")


def test_prometheus_rule_when_enabled_ships_the_rules_file(render):
    docs = render({"metrics": {"prometheusRule": {
        "enabled": True, "additionalLabels": {"release": "kube-prometheus-stack"}}}})
    rule = one(docs, "PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["spec"] == yaml.safe_load((CHART / "alerts" / "dart-rules.yaml").read_text())


def test_json_logs_by_default_reach_the_operator_and_every_workload_pod(render):
    for values, expected in ((None, "json"), ({"logFormat": "text"}, None)):
        settings = load_settings(operator_env(render(values)))
        assert settings.log_format == (expected or "text")
        for name, pod in child_pods(settings, gpu_run_spec()).items():
            env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
            assert env.get("DART_LOG_FORMAT") == expected, name


def test_dashboard_configmap_has_the_grafana_label_and_valid_json(render):
    docs = render({"dashboards": {"enabled": True, "namespace": "monitoring"}})
    config_map = one(docs, "ConfigMap")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["namespace"] == "monitoring"
    assert json.loads(config_map["data"]["dart.json"])["uid"] == "dart-overview"


# ----------------------------------------------------------------------------- settings


def test_operator_settings_are_accepted_by_the_operator(render):
    """Every env var the chart sets is one the operator reads, and it parses them."""
    env = operator_env(render(None, CI_VALUES))
    settings = load_settings(env)  # fails on an unknown DART_* name (extra="forbid")
    assert settings.image_workload.endswith("@sha256:" + "0123456789abcdef" * 4)
    assert settings.server_image == "registry.example.com/ml/dart-runtime:0.1.0-vllm-nightly"
    assert settings.watch_namespaces == ["dart-runs", "research"]
    assert settings.peering == "dart"


def test_default_settings_parse(render):
    settings = load_settings(operator_env(render()))
    assert settings.image_workload == "ghcr.io/dart-ai/dart-runtime:0.1.0"
    assert settings.node_pools == {} and settings.watch_namespaces == []
    assert settings.workload_service_account is None  # cluster-wide: the namespace default


def test_node_pools_reach_the_operator_settings(render):
    env = operator_env(render({"nodePools": {"gpu-a100": GPU_POOL, "cpu": {}}}))
    pools = load_settings(env).node_pools
    assert set(pools) == {"gpu-a100", "cpu"}
    pool = pools["gpu-a100"]
    assert pool.node_selector == GPU_POOL["nodeSelector"]
    assert pool.tolerations == GPU_POOL["tolerations"]
    assert pool.affinity == GPU_POOL["affinity"]
    assert pool.runtime_class_name == "nvidia"
    assert pool.gpu_resource == "nvidia.com/mig-3g.40gb"
    assert pools["cpu"].gpu_resource == "nvidia.com/gpu"


def test_node_pools_are_applied_to_every_child_pod(render):
    settings = load_settings(operator_env(render({"nodePools": {"gpu-a100": GPU_POOL}})))
    pods = child_pods(settings, gpu_run_spec("gpu-a100"))
    assert len(pods) >= 6  # two servers and a Job per stage
    for name, pod in pods.items():
        assert pod["nodeSelector"] == GPU_POOL["nodeSelector"], name
        assert pod["tolerations"] == GPU_POOL["tolerations"], name
        assert pod["affinity"] == GPU_POOL["affinity"], name
        assert pod["runtimeClassName"] == "nvidia", name
        limits = pod["containers"][0]["resources"]["limits"]
        assert limits["nvidia.com/mig-3g.40gb"] == "1", name


def test_node_pool_with_an_unknown_key_is_rejected(helm, render):
    done = run_helm(helm, "template", "x", str(CHART), "--set", "nodePools.gpu.nodeSelectr.a=b")
    assert done.returncode != 0 and "nodeSelectr" in done.stderr


def test_pull_secrets_reach_operator_pod_service_accounts_and_every_child(render):
    docs = render({"imagePullSecrets": ["regcred", "mirror"],
                   "operator": {"watchNamespaces": ["runs"]}})
    expected = [{"name": "regcred"}, {"name": "mirror"}]
    assert operator_pod(docs)["imagePullSecrets"] == expected
    for account in find(docs, "ServiceAccount"):
        assert account["imagePullSecrets"] == expected
    settings = load_settings(operator_env(docs))
    assert settings.image_pull_secrets == ["regcred", "mirror"]
    pods = child_pods(settings, gpu_run_spec(pull_secrets=("run-own",)))
    for name, pod in pods.items():
        assert pod["imagePullSecrets"] == [*expected, {"name": "run-own"}], name


def test_no_pull_secrets_by_default(render):
    docs = render()
    assert "imagePullSecrets" not in operator_pod(docs)
    assert load_settings(operator_env(docs)).image_pull_secrets == []


def test_workload_service_account_per_watched_namespace(render):
    docs = render({"operator": {"watchNamespaces": ["a", "b"]}})
    accounts = [a for a in find(docs, "ServiceAccount") if a["metadata"]["namespace"] != NAMESPACE]
    assert sorted(a["metadata"]["namespace"] for a in accounts) == ["a", "b"]
    assert all(a["automountServiceAccountToken"] is False for a in accounts)
    name = load_settings(operator_env(docs)).workload_service_account
    assert {a["metadata"]["name"] for a in accounts} == {name}


# ----------------------------------------------------------------------------- operator pod


def test_operator_runs_non_root_with_read_only_root_filesystem(render):
    pod = operator_pod(render())
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}


def test_operator_probes_hit_the_kopf_liveness_endpoint(render):
    docs = render()
    container = operator_pod(docs)["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    liveness = load_settings(operator_env(docs)).liveness_endpoint
    for probe in ("livenessProbe", "readinessProbe"):
        get = container[probe]["httpGet"]
        assert liveness == f"http://0.0.0.0:{ports[get['port']]}{get['path']}"
    assert load_settings(operator_env(docs)).metrics_port == ports["metrics"]


def test_standalone_operator_is_recreated_not_surged(render):
    assert one(render(), "Deployment")["spec"]["strategy"] == {"type": "Recreate"}


def test_two_replicas_without_peering_fail(helm):
    done = run_helm(helm, "template", "x", str(CHART), "--set", "operator.replicas=2")
    assert done.returncode != 0 and "operator.peering" in done.stderr


# ----------------------------------------------------------------------------- network policy


def test_no_network_policy_by_default(render):
    assert not find(render(), "NetworkPolicy")


def test_network_policy_fences_the_operator_and_turns_on_per_run_fences(render):
    docs = render({"networkPolicy": {"enabled": True}})
    policies = find(docs, "NetworkPolicy")
    assert [p["metadata"]["name"] for p in policies] == ["dart-operator"]
    assert operator_env(docs)["DART_NETWORK_POLICY"] == "true"
    assert operator_env(render())["DART_NETWORK_POLICY"] == "false"


def test_policy_ports_are_the_server_containers_named_ports():
    pods = child_pods(Settings(), gpu_run_spec())
    for server in ("r-generator", "r-scorer"):
        assert {p["name"] for p in pods[server]["containers"][0]["ports"]} >= {"grpc", "metrics"}


def test_existing_operator_service_account(render):
    docs = render({"serviceAccount": {"create": False, "name": "ops-managed"}})
    assert not [a for a in find(docs, "ServiceAccount") if a["metadata"]["name"] == "ops-managed"]
    assert operator_pod(docs)["serviceAccountName"] == "ops-managed"
    binding = one(docs, "ClusterRoleBinding")
    assert binding["subjects"][0]["name"] == "ops-managed"


def test_images_default_to_the_chart_app_version_and_a_digest_wins(render):
    default = operator_pod(render())["containers"][0]["image"]
    assert default == "ghcr.io/dart-ai/dart-operator:0.1.0"
    digest = "sha256:" + "ab" * 32
    pinned = render({"images": {"operator": {"tag": "x", "digest": digest}}})
    assert operator_pod(pinned)["containers"][0]["image"].endswith("/dart-operator@" + digest)
