"""Pre-training plumbing on a toy recipe (seconds): markers, reuse, rebuild, the CLI."""

from __future__ import annotations

import json

from transformers import AutoModelForCausalLM, AutoTokenizer

from dart.cli import main
from dart.data.synthetic.repertoire import REPERTOIRE
from dart.models.pretrain import MARKER, PretrainRecipe, is_current, pretrain_tiny_models

TOY = PretrainRecipe(target_corpus=64, target_steps=2, batch_size=4, mapper_corpus=16,
                     mapper_steps=2, mapper_batch_size=2)


def test_build_marks_reuses_and_rebuilds(tmp_path):
    lines: list[str] = []
    paths = pretrain_tiny_models(tmp_path, TOY, progress=lines.append)
    marker = json.loads((paths.mapper / MARKER).read_text())
    assert marker["fingerprint"] == TOY.fingerprint()
    assert is_current(paths.target, TOY.target_fingerprint())
    assert marker["prompt_format_version"]
    assert any(line.startswith("target: building") for line in lines)
    assert not list(tmp_path.glob(".*")), "staging folders must be renamed away"
    AutoModelForCausalLM.from_pretrained(paths.mapper)
    AutoTokenizer.from_pretrained(paths.target)

    lines.clear()
    assert pretrain_tiny_models(tmp_path, TOY, progress=lines.append) == paths
    assert not any("building" in line for line in lines)

    mapper_changed = PretrainRecipe(**{**TOY.__dict__, "mapper_steps": 3})
    assert not is_current(paths.mapper, mapper_changed.fingerprint())
    lines.clear()
    pretrain_tiny_models(tmp_path, mapper_changed, progress=lines.append)
    assert [line.split(":")[0] for line in lines if "building" in line] == ["mapper"]
    assert is_current(paths.mapper, mapper_changed.fingerprint())

    target_changed = PretrainRecipe(**{**TOY.__dict__, "target_lr": 1e-3})
    assert not is_current(paths.target, target_changed.target_fingerprint())


def test_fingerprints_follow_their_fields():
    same, reseeded = PretrainRecipe(**TOY.__dict__), PretrainRecipe(**{**TOY.__dict__, "seed": 1})
    assert TOY.fingerprint() == same.fingerprint() != reseeded.fingerprint()
    assert TOY.target_fingerprint() != reseeded.target_fingerprint()
    longer_mapper = PretrainRecipe(**{**TOY.__dict__, "mapper_steps": 9})
    assert TOY.target_fingerprint() == longer_mapper.target_fingerprint()
    assert TOY.base_fingerprint() == longer_mapper.base_fingerprint()
    styles = {TOY.target_fingerprint(s) for s in REPERTOIRE} | {TOY.base_fingerprint()}
    assert len(styles) == len(REPERTOIRE) + 1


def test_one_mapper_serves_every_target():
    """The mapper never sees which members the targets write: its fingerprint (its training)
    does not change with them, and it is built from the repertoire base, not a target."""
    other_targets = PretrainRecipe(**{**TOY.__dict__, "target_styles": ("opword",)})
    assert other_targets.fingerprint() == TOY.fingerprint()
    assert other_targets.target_fingerprint("opword") != TOY.target_fingerprint("native")


def test_a_target_in_any_member(tmp_path, capsys):
    recipe = PretrainRecipe(**{**TOY.__dict__, "target_styles": ("carryword-boxed",)})
    paths = pretrain_tiny_models(tmp_path, recipe, progress=print)
    assert paths.target == tmp_path / "target-carryword-boxed"
    assert is_current(paths.target, recipe.target_fingerprint("carryword-boxed"))
    assert not (tmp_path / "target").exists()
    assert main(["tiny-models", "--out", str(tmp_path), "--pretrain", "--target-style",
                 "nowhere"]) == 2
    assert "not a member of the repertoire" in capsys.readouterr().err


def test_cli_builds_untrained_target_and_mapper(tmp_path, capsys):
    assert main(["tiny-models", "--out", str(tmp_path)]) == 0
    for name in ("target", "mapper"):
        AutoModelForCausalLM.from_pretrained(tmp_path / name)
    assert "mapper: untrained tiny model" in capsys.readouterr().out
    assert not is_current(tmp_path / "target", PretrainRecipe().target_fingerprint())


def test_cache_reuses_the_target_of_a_recipe_that_changed_only_the_mapper(tmp_path):
    from dart.models.pretrain import cached_tiny_models

    first = cached_tiny_models(TOY, cache_root=tmp_path, progress=print)
    lines: list[str] = []
    mapper_changed = PretrainRecipe(**{**TOY.__dict__, "mapper_steps": 3})
    second = cached_tiny_models(mapper_changed, cache_root=tmp_path, progress=lines.append)
    assert second.target.parent != first.target.parent
    assert [line.split(":")[0] for line in lines if "building" in line] == ["mapper"]
    reused = {line.split(":")[0] for line in lines if ": reusing" in line}
    assert reused == {"target", "target-opword-carryword-boxed", "repertoire-base"}
    assert is_current(second.target, TOY.target_fingerprint())
    assert (second.target / "model.safetensors").read_bytes() == (
        first.target / "model.safetensors").read_bytes()
