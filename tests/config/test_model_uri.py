from pathlib import Path

from dart.config.model_uri import resolve_model
from dart.config.spec import ModelRef


def test_each_uri_form_resolves_to_from_pretrained_arguments():
    hub = resolve_model(ModelRef(uri="hf://Qwen/Qwen2.5-1.5B@abc123"))
    assert (hub.name_or_path, hub.kwargs()) == ("Qwen/Qwen2.5-1.5B", {"revision": "abc123"})
    assert resolve_model(ModelRef(uri="hf://gpt2")).kwargs() == {}
    pvc = resolve_model(ModelRef(uri="pvc://cache/llama/8b"), pvc_root=Path("/pvc"))
    assert pvc.name_or_path == "/pvc/cache/llama/8b"
    assert resolve_model(ModelRef(uri="./tiny/target")).name_or_path == "tiny/target"
