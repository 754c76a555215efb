"""Operator settings from the chart's environment variables, and the entry point."""

from __future__ import annotations

import json

import pytest

from dart_operator import kube, main
from dart_operator.settings import Settings, SettingsError, load_settings


def test_defaults_need_no_environment():
    settings = load_settings({})
    assert settings == Settings()
    assert settings.server_image == settings.image_workload
    assert settings.watch_namespaces == [] and settings.peering is None


def test_every_variable_is_read():
    pools = {"a100": {"nodeSelector": {"pool": "a100"}, "gpuResource": "amd.com/gpu",
                      "tolerations": [{"key": "gpu", "operator": "Exists"}],
                      "runtimeClassName": "nvidia"}}
    env = {
        "DART_IMAGE_WORKLOAD": "reg/dart:2", "DART_IMAGE_SERVER": "reg/serve:2",
        "DART_IMAGE_PULL_POLICY": "Always", "DART_IMAGE_PULL_SECRETS": "a, b,",
        "DART_NODE_POOLS": json.dumps(pools), "DART_GPU_RESOURCE": "nvidia.com/mig-1g.10gb",
        "DART_WORKLOAD_SERVICE_ACCOUNT": "dart-workload",
        "DART_ARTIFACTS_ACCESS_MODE": "ReadWriteMany", "DART_POD_FAILURE_POLICY": "false",
        "DART_SERVER_STARTUP_SECONDS": "600", "DART_RESYNC_SECONDS": "15",
        "DART_PROGRESS_URL": "http://{service}:{port}/p", "DART_METRICS_PORT": "0",
        "DART_LIVENESS_ENDPOINT": "off", "DART_WATCH_NAMESPACES": "research,prod",
        "DART_PEERING": "dart", "DART_NETWORK_POLICY": "true",
        "DART_PRIORITY_CLASS_NAME": "dart-training", "DART_FAILED_SERVER_LOG_SECONDS": "0",
        "DART_JOB_MANAGED_BY": "kueue.x-k8s.io/multikueue", "DART_LOG_FORMAT": "json",
    }
    settings = load_settings(env)
    assert settings.server_image == "reg/serve:2"
    assert settings.image_pull_secrets == ["a", "b"]
    assert settings.node_pools["a100"].gpu_resource == "amd.com/gpu"
    assert settings.node_pools["a100"].runtime_class_name == "nvidia"
    assert settings.pod_failure_policy is False and settings.resync_seconds == 15
    assert settings.watch_namespaces == ["research", "prod"] and settings.peering == "dart"
    assert settings.liveness_endpoint == "off" and settings.network_policy is True
    assert settings.priority_class_name == "dart-training"
    assert settings.failed_server_log_seconds == 0
    assert settings.job_managed_by == "kueue.x-k8s.io/multikueue"
    assert settings.log_format == "json"
    assert load_settings({"DART_LIVENESS_ENDPOINT": ""}) == Settings()  # empty: the default
    names = {f"DART_{field.upper()}" for field in Settings.model_fields}
    assert names == set(env)


def test_every_variable_is_documented_in_the_module():
    from dart_operator import settings as module

    for field in Settings.model_fields:
        assert f"DART_{field.upper()}" in module.__doc__


@pytest.mark.parametrize(("env", "named"), [
    ({"DART_NODE_POOLS": "{not json"}, "DART_NODE_POOLS is not valid JSON"),
    ({"DART_NODE_POOLS": '{"a": {"nodeSelectr": {}}}'}, "DART_NODE_POOLS a.nodeSelectr"),
    ({"DART_RESYNC_SECONDS": "-1"}, "DART_RESYNC_SECONDS"),
    ({"DART_ARTIFACTS_ACCESS_MODE": "Shared"}, "DART_ARTIFACTS_ACCESS_MODE"),
])
def test_a_bad_value_names_its_variable(env, named):
    with pytest.raises(SettingsError, match=named):
        load_settings(env)


def test_the_entry_point_refuses_bad_settings_in_one_line(monkeypatch, capsys):
    monkeypatch.setenv("DART_METRICS_PORT", "seventy")
    assert main.main() == 2
    err = capsys.readouterr().err
    assert err.startswith("dart-operator: DART_METRICS_PORT") and err.count("\n") == 1


def test_kopf_logs_in_with_the_same_credentials_as_the_operator():
    from kubernetes_asyncio.client import Configuration

    cfg = Configuration(host="https://k8s.example:6443")
    cfg.api_key = {"BearerToken": "Bearer s3cret"}
    cfg.ssl_ca_cert = "/ca.crt"
    info = kube.connection_info(cfg)
    assert (info.server, info.scheme, info.token) == ("https://k8s.example:6443", "Bearer",
                                                       "s3cret")
    assert info.ca_path == "/ca.crt" and info.insecure is False


def test_kopf_is_standalone_by_default_and_peers_when_asked():
    import kopf

    from dart_operator.handlers import configure_kopf

    alone = kopf.OperatorSettings()
    configure_kopf(alone, Settings())
    assert alone.peering.standalone is True

    peered = kopf.OperatorSettings()
    configure_kopf(peered, Settings(peering="dart", watch_namespaces=["research"]))
    assert (peered.peering.name, peered.peering.mandatory) == ("dart", True)
    assert peered.peering.clusterwide is False and not peered.peering.standalone
    cluster = kopf.OperatorSettings()
    configure_kopf(cluster, Settings(peering="dart"))
    assert cluster.peering.clusterwide is True


def test_the_resync_daemon_puts_no_finalizer_on_runs():
    import kopf

    from dart_operator.handlers import resync

    spawning = kopf.get_default_registry()._spawning.get_all_handlers()
    daemon = next(h for h in spawning if h.fn is resync)
    assert daemon.requires_finalizer is False
