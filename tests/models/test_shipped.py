"""The shipped tiny models: built by the current recipe, passing its acceptance gates with the
figures they were accepted on, and copied (not trained) by `dart tiny-models --pretrain`."""

from __future__ import annotations

import json

import pytest

from dart.cli import main
from dart.models.acceptance import ACCEPTANCE, GATES, failed_gates, measure
from dart.models.pretrain import MARKER, PretrainRecipe, is_current
from dart.models.shipped import SHIPPED_DIR, install_tiny_models, shipped_tiny_models


def test_shipped_models_are_built_by_the_current_recipe():
    recipe = PretrainRecipe()
    assert is_current(SHIPPED_DIR / "target", recipe.target_fingerprint())
    assert is_current(SHIPPED_DIR / "mapper", recipe.fingerprint())
    assert shipped_tiny_models(recipe) is not None
    assert shipped_tiny_models(PretrainRecipe(seed=1)) is None
    for name in ("target", "mapper"):
        assert (SHIPPED_DIR / name / "model.safetensors").stat().st_size < 8 * 2**20


@pytest.mark.slow
def test_shipped_models_pass_the_gates_with_their_recorded_figures(pretrained):
    figures = measure(pretrained.target, pretrained.mapper)
    print("\nshipped tiny models: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()))
    assert not failed_gates(figures)
    recorded = json.loads((SHIPPED_DIR / ACCEPTANCE).read_text())
    assert set(recorded) == set(GATES)
    for name, value in figures.items():
        # Greedy decoding is deterministic; other CPUs may round a near-tie differently.
        assert value == pytest.approx(recorded[name], abs=0.05), name


def test_pretrain_copies_the_shipped_pair(tmp_path, capsys):
    assert main(["tiny-models", "--out", str(tmp_path), "--pretrain"]) == 0
    assert "the shipped pair" in capsys.readouterr().out
    for name in ("target", "mapper"):
        copied, shipped = tmp_path / name, SHIPPED_DIR / name
        assert (copied / "model.safetensors").read_bytes() == (
            shipped / "model.safetensors").read_bytes()
        assert (copied / MARKER).read_text() == (shipped / MARKER).read_text()
    assert (tmp_path / ACCEPTANCE).exists()
    assert not list(tmp_path.glob(".*")), "staging folders must be renamed away"


def test_rebuild_needs_pretrain(tmp_path, capsys):
    assert main(["tiny-models", "--out", str(tmp_path), "--rebuild"]) == 2
    assert "--pretrain" in capsys.readouterr().err


@pytest.mark.rebuild
def test_rebuilding_from_the_recipe_passes_the_gates(tmp_path):
    """Opt-in (`scripts/test -m rebuild`, ~14 min on 2 cores): the recipe still makes models
    that pass every gate, as the shipped ones did."""
    paths = install_tiny_models(tmp_path, rebuild=True, progress=print)
    figures = json.loads((tmp_path / ACCEPTANCE).read_text())
    assert not failed_gates(figures)
    assert is_current(paths.mapper, PretrainRecipe().fingerprint())
