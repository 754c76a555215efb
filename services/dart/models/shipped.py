"""The pre-trained tiny models that ship with DART, and how a folder gets a copy of them.

    dart tiny-models --out tiny-models --pretrain            # copies the shipped pair (< 1 s)
    dart tiny-models --out DIR --pretrain --rebuild          # trains from the recipe (~14 min)

Pre-training the pair takes ~14 minutes on 2 cores, so the repository carries the result
(services/dart/models/shipped/{target,mapper}, ~4 MB each) with the recipe fingerprint in each
model's marker and the acceptance figures it passed (dart-acceptance.json). The demo, the tests
and the examples all use these files; a recipe change makes them stale, which a test catches
(`tests/models/test_shipped.py`) until a maintainer rebuilds them in place:

    dart tiny-models --out services/dart/models/shipped --pretrain --rebuild
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from dart.models.acceptance import ACCEPTANCE, failed_gates, measure
from dart.models.pretrain import (
    PretrainRecipe,
    Progress,
    TinyModelPaths,
    is_current,
    pretrain_tiny_models,
)
from dart.models.tiny import staging_dir

DEFAULT_RECIPE = PretrainRecipe()
SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"


class AcceptanceFailed(RuntimeError):
    """A freshly built pair misses a quality gate: it must not be shipped or used."""


def shipped_tiny_models(recipe: PretrainRecipe = DEFAULT_RECIPE) -> TinyModelPaths | None:
    """The shipped pair when it was built by `recipe`, else None."""
    paths = TinyModelPaths(SHIPPED_DIR / "target", SHIPPED_DIR / "mapper")
    if is_current(paths.target, recipe.target_fingerprint()) and is_current(
            paths.mapper, recipe.fingerprint()):
        return paths
    return None


def install_tiny_models(out_dir: Path, recipe: PretrainRecipe = DEFAULT_RECIPE, *,
                        rebuild: bool = False, progress: Progress = print,
                        threads: int = 1) -> TinyModelPaths:
    """A pre-trained pair in `out_dir`: a copy of the shipped one when the recipe matches (and
    `rebuild` is off), else trained from the recipe and accepted by its gates."""
    out_dir = Path(out_dir)
    shipped = None if rebuild else shipped_tiny_models(recipe)
    if shipped is not None:
        return _copy_shipped(shipped, out_dir, recipe, progress)
    if rebuild:
        for name in ("target", "mapper"):
            shutil.rmtree(out_dir / name, ignore_errors=True)
    paths = pretrain_tiny_models(out_dir, recipe, progress=progress, threads=threads)
    accept(paths, out_dir / ACCEPTANCE, progress)
    return paths


def accept(paths: TinyModelPaths, record: Path, progress: Progress) -> dict[str, float]:
    """Measure the pair against the gates, write the figures to `record`, raise on a miss."""
    progress("acceptance: measuring the gates (greedy, held out)")
    figures = measure(paths.target, paths.mapper)
    misses = failed_gates(figures)
    if misses:
        raise AcceptanceFailed("the pre-trained tiny models miss their gates: " + "; ".join(misses))
    record.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    progress("acceptance: " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(figures.items())))
    return figures


def _copy_shipped(shipped: TinyModelPaths, out_dir: Path, recipe: PretrainRecipe,
                  progress: Progress) -> TinyModelPaths:
    paths = TinyModelPaths(out_dir / "target", out_dir / "mapper")
    if out_dir.resolve() == SHIPPED_DIR:
        return shipped
    for source, dest, fingerprint in ((shipped.target, paths.target, recipe.target_fingerprint()),
                                      (shipped.mapper, paths.mapper, recipe.fingerprint())):
        if not is_current(dest, fingerprint):
            with staging_dir(dest) as staging:
                shutil.copytree(source, staging, dirs_exist_ok=True)
    shutil.copyfile(SHIPPED_DIR / ACCEPTANCE, out_dir / ACCEPTANCE)
    progress(f"tiny models: the shipped pair (recipe {recipe.fingerprint()}) -> {out_dir}")
    return paths
