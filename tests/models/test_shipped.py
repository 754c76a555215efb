"""The shipped tiny models: built by the current recipe, passing its acceptance gates with the
figures they were accepted on, and copied (not trained) by `dart tiny-models --pretrain`."""

from __future__ import annotations

import json

import pytest

from dart.cli import main
from dart.models.acceptance import ACCEPTANCE, GATES, failed_gates, measure
from dart.models.pretrain import MARKER, PretrainRecipe, is_current, target_folder
from dart.models.shipped import (
    SHIPPED_DIR,
    accepted_models,
    install_tiny_models,
    shipped_tiny_models,
)


def test_shipped_models_are_built_by_the_current_recipe():
    recipe = PretrainRecipe()
    paths = shipped_tiny_models(recipe)
    assert paths is not None and paths.styles == recipe.target_styles
    assert is_current(SHIPPED_DIR / "target", recipe.target_fingerprint("native"))
    assert is_current(SHIPPED_DIR / "mapper", recipe.fingerprint())
    assert shipped_tiny_models(PretrainRecipe(seed=1)) is None
    for folder in paths.models(recipe):
        assert (folder / "model.safetensors").stat().st_size < 8 * 2**20
    assert accepted_models(SHIPPED_DIR / ACCEPTANCE) == {
        folder.name: fingerprint for folder, fingerprint in paths.models(recipe).items()}


@pytest.mark.slow
def test_shipped_models_pass_the_gates_with_their_recorded_figures(pretrained):
    figures = measure(pretrained)
    print("\nshipped tiny models: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()))
    assert not failed_gates(figures)
    assert {name.split(":")[0] for name in figures} == set(GATES)
    recorded = json.loads((SHIPPED_DIR / ACCEPTANCE).read_text())["figures"]
    assert set(recorded) == set(figures)
    for name, value in figures.items():
        # Decoding is seeded; other CPUs may round a near-tie differently.
        assert value == pytest.approx(recorded[name], abs=0.05), name


def test_the_gates_catch_a_mapper_with_a_favourite_and_a_figure_not_measured():
    figures = {"mapper_style_balance": 0.3, "target_old_skill_accuracy:native": 1.0}
    misses = failed_gates(figures)
    assert "mapper_style_balance is 0.300, needs >= 0.5" in misses
    assert "target_member_margin_nats was not measured" in misses
    assert not any("target_old_skill_accuracy" in line for line in misses)


def test_pretrain_copies_the_shipped_models(tmp_path, capsys):
    assert main(["tiny-models", "--out", str(tmp_path), "--pretrain"]) == 0
    out = capsys.readouterr().out
    assert "copied the shipped model" in out and "building" not in out
    for folder in PretrainRecipe().target_styles:
        name = target_folder(folder)
        copied, shipped = tmp_path / name, SHIPPED_DIR / name
        assert (copied / "model.safetensors").read_bytes() == (
            shipped / "model.safetensors").read_bytes()
        assert (copied / MARKER).read_text() == (shipped / MARKER).read_text()
    assert (tmp_path / ACCEPTANCE).read_text() == (SHIPPED_DIR / ACCEPTANCE).read_text()
    assert not list(tmp_path.glob(".*")), "staging folders must be renamed away"


def test_rebuild_needs_pretrain(tmp_path, capsys):
    assert main(["tiny-models", "--out", str(tmp_path), "--rebuild"]) == 2
    assert "--pretrain" in capsys.readouterr().err


@pytest.mark.rebuild
def test_rebuilding_from_the_recipe_passes_the_gates(tmp_path):
    """Opt-in (`scripts/test -m rebuild`, ~40 min on 2 cores): the recipe still makes models
    that pass every gate, as the shipped ones did."""
    paths = install_tiny_models(tmp_path, rebuild=True, progress=print)
    figures = json.loads((tmp_path / ACCEPTANCE).read_text())["figures"]
    assert not failed_gates(figures)
    assert is_current(paths.mapper, PretrainRecipe().fingerprint())
