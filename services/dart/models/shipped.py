"""The pre-trained tiny models that ship with DART, and how a folder gets a copy of them.

    dart tiny-models --out tiny-models --pretrain            # copies the shipped models (< 1 s)
    dart tiny-models --out DIR --pretrain --rebuild          # trains from the recipe (~40 min)
    dart tiny-models --out DIR --pretrain --target-style opword   # copies the mapper, trains
                                                                  # one target (~10 min)

Pre-training takes most of an hour on 2 cores, so the repository carries the result
(services/dart/models/shipped/{target,target-*,mapper}, ~4 MB each) with the recipe
fingerprint in each model's marker and the acceptance figures they passed
(dart-acceptance.json). The demo, the tests and the examples all use these files; a recipe
change makes them stale, which a test catches (`tests/models/test_shipped.py`) until a
maintainer rebuilds them in place:

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
    """The shipped models when every one of them was built by `recipe`, else None."""
    paths = TinyModelPaths(SHIPPED_DIR, recipe.target_styles)
    if all(is_current(folder, fingerprint) for folder, fingerprint in paths.models(recipe).items()):
        return paths
    return None


def install_tiny_models(out_dir: Path, recipe: PretrainRecipe = DEFAULT_RECIPE, *,
                        rebuild: bool = False, progress: Progress = print,
                        threads: int = 1) -> TinyModelPaths:
    """Pre-trained models in `out_dir`: copies of the shipped ones the recipe matches (unless
    `rebuild`), the rest trained from the recipe; models no acceptance record vouches for
    (fingerprint by fingerprint) are measured against the gates before they are used."""
    out_dir = Path(out_dir)
    paths = TinyModelPaths(out_dir, recipe.target_styles)
    if rebuild:
        for folder in paths.models(recipe):
            shutil.rmtree(folder, ignore_errors=True)
        (out_dir / ACCEPTANCE).unlink(missing_ok=True)
    elif out_dir.resolve() != SHIPPED_DIR:
        _copy_shipped(paths, recipe, progress)
    paths = pretrain_tiny_models(out_dir, recipe, progress=progress, threads=threads)
    if accepted_models(out_dir / ACCEPTANCE) != _names(paths, recipe):
        accept(paths, recipe, out_dir / ACCEPTANCE, progress)
    return paths


def accepted_models(record: Path) -> dict[str, str]:
    """The models (folder name -> fingerprint) an acceptance record vouches for."""
    return json.loads(record.read_text()).get("models", {}) if record.exists() else {}


def _names(paths: TinyModelPaths, recipe: PretrainRecipe) -> dict[str, str]:
    return {folder.name: fingerprint for folder, fingerprint in paths.models(recipe).items()}


def accept(paths: TinyModelPaths, recipe: PretrainRecipe, record: Path,
           progress: Progress) -> dict[str, float]:
    """Measure the models against the gates, record the figures, raise on a miss."""
    progress("acceptance: measuring the gates (held out)")
    figures = measure(paths)
    misses = failed_gates(figures)
    if misses:
        raise AcceptanceFailed("the pre-trained tiny models miss their gates: " + "; ".join(misses))
    record.write_text(json.dumps({"models": _names(paths, recipe), "figures": figures},
                                 indent=2, sort_keys=True) + "\n")
    progress("acceptance: " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(figures.items())))
    return figures


def _copy_shipped(paths: TinyModelPaths, recipe: PretrainRecipe, progress: Progress) -> None:
    """Copy every shipped model the recipe would build identically (its fingerprint matches)."""
    shipped = TinyModelPaths(SHIPPED_DIR, paths.styles)
    for (source, fingerprint), dest in zip(shipped.models(recipe).items(), paths.models(recipe),
                                           strict=True):
        if is_current(source, fingerprint) and not is_current(dest, fingerprint):
            with staging_dir(dest) as staging:
                shutil.copytree(source, staging, dirs_exist_ok=True)
            progress(f"{dest.name}: copied the shipped model")
    if accepted_models(SHIPPED_DIR / ACCEPTANCE) == _names(paths, recipe):
        shutil.copyfile(SHIPPED_DIR / ACCEPTANCE, paths.root / ACCEPTANCE)  # their figures
