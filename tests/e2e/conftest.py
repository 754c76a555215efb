"""The reduced quickstart every end-to-end test runs: tiny untrained models, a dozen
demonstrations, two learner steps, so a whole `dart run` takes a minute or two."""

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def reduced_quickstart(tmp_path_factory) -> Path:
    from dart.models.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("e2e")
    build_tiny_model(root / "target")
    spec = yaml.safe_load((REPO / "examples/01-quickstart.yaml").read_text())
    spec["spec"]["models"] = {"target": {"uri": str(root / "target")}}
    spec["spec"]["dataset"]["synthetic"].update(trainSize=12, evalSize=6)
    spec["spec"]["learn"].update(steps=2, batchSize=2, groupSize=2, maxNewTokens=12,
                                 publishEvery=1, checkpointEvery=1)
    spec["spec"]["synthesize"].update(samplesPerItem=2)
    spec["spec"]["sft"].update(batchSize=8, epochs=2)
    spec["spec"]["evaluate"].update(maxNewTokens=12, curvePoints=1, seeds=2)
    spec["spec"]["compare"]["arms"] = ["sft-original", "direct-rl", "sft-oracle"]
    path = root / "reduced.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path
