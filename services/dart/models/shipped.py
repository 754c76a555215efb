"""The pre-trained tiny models that ship with DART, and how a folder gets a copy of them.

    dart tiny-models --out tiny-models --pretrain            # copies the shipped pair (< 1 s)
    dart tiny-models --out DIR --pretrain --target-style opword-boxed   # a target in that style
    dart tiny-models --out DIR --pretrain --rebuild          # trains from the recipe

Pre-training takes tens of minutes on 2 cores, so the repository carries the results
(services/dart/models/shipped: `mapper`, the general rewriter; `target`, the target in the
`native` style; `target-STYLE` for a target in another member of the repertoire; a few MB
each), each with its fingerprint in its marker and the acceptance figures it passed
(dart-acceptance.json in its folder). A copy always lands as DIR/target and DIR/mapper, so
every example reads the same paths whatever the target's style. The demo, the tests and the
examples use these files; a recipe change makes them stale, which a test catches
(`tests/models/test_shipped.py`) until a maintainer rebuilds them in place:

    dart tiny-models --out services/dart/models/shipped --pretrain --rebuild
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from dart.artifacts import atomic_write_json
from dart.models.acceptance import (
    ACCEPTANCE,
    MAPPER_GATES,
    TARGET_GATES,
    failed_gates,
    measure_mapper,
    measure_target,
)
from dart.models.pretrain import (
    MARKER,
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
    """A freshly built model misses a quality gate: it must not be shipped or used."""


def shipped_paths(style: str = "native") -> TinyModelPaths:
    """Where the shipped mapper and the shipped target in `style` live (if built)."""
    name = "target" if style == "native" else f"target-{style}"
    return TinyModelPaths(SHIPPED_DIR / name, SHIPPED_DIR / "mapper")


def shipped_styles() -> list[str]:
    """The styles of every shipped target, `native` first."""
    styles = [json.loads((folder / MARKER).read_text())["recipe"].get("target_style", "native")
              for folder in sorted(SHIPPED_DIR.glob("target*")) if (folder / MARKER).exists()]
    return sorted(styles, key=lambda s: (s != "native", s))


def shipped_tiny_models(recipe: PretrainRecipe = DEFAULT_RECIPE) -> TinyModelPaths | None:
    """The shipped target (in the recipe's style) and mapper when `recipe` built both."""
    paths = shipped_paths(recipe.target_style)
    if is_current(paths.target, recipe.target_fingerprint()) and is_current(
            paths.mapper, recipe.mapper_fingerprint()):
        return paths
    return None


def install_tiny_models(out_dir: Path, recipe: PretrainRecipe = DEFAULT_RECIPE, *,
                        rebuild: bool = False, progress: Progress = print,
                        threads: int = 1) -> TinyModelPaths:
    """A pre-trained target and mapper in `out_dir`: a copy of each shipped model the recipe
    built (unless `rebuild`), the others trained from the recipe and accepted by its gates."""
    out_dir = Path(out_dir)
    paths = shipped_paths(recipe.target_style) if out_dir.resolve() == SHIPPED_DIR else \
        TinyModelPaths(out_dir / "target", out_dir / "mapper")
    shipped = shipped_paths(recipe.target_style)
    wanted = {"target": recipe.target_fingerprint(), "mapper": recipe.mapper_fingerprint()}
    for name, fingerprint in wanted.items():
        source, dest = getattr(shipped, name), getattr(paths, name)
        if rebuild:
            shutil.rmtree(dest, ignore_errors=True)
        elif is_current(source, fingerprint) and source.resolve() != dest.resolve():
            _copy(source, dest, fingerprint, progress)
    pretrain_tiny_models(out_dir, recipe, progress=progress, threads=threads, paths=paths)
    accept(paths, recipe.target_style, progress)
    return paths


def accept(paths: TinyModelPaths, style: str, progress: Progress) -> None:
    """Measure every model without an acceptance record against its gates; write the figures
    into its folder, or raise on a miss (the model stays, unrecorded)."""
    for name, gates, measure in (("target", TARGET_GATES, lambda p: measure_target(p, style)),
                                 ("mapper", MAPPER_GATES, measure_mapper)):
        folder = getattr(paths, name)
        if (folder / ACCEPTANCE).exists():
            continue
        progress(f"acceptance: measuring the {name}'s gates (held out)")
        figures = measure(folder)
        misses = failed_gates(figures, gates)
        if misses:
            raise AcceptanceFailed(f"the pre-trained tiny {name} misses its gates: "
                                   + "; ".join(misses))
        atomic_write_json(folder / ACCEPTANCE, dict(sorted(figures.items())))
        progress(f"acceptance ({name}): " + ", ".join(
            f"{k} {v:.3f}" for k, v in sorted(figures.items()) if k in gates))


def _copy(source: Path, dest: Path, fingerprint: str, progress: Progress) -> None:
    if not is_current(dest, fingerprint):
        with staging_dir(dest) as staging:
            shutil.copytree(source, staging, dirs_exist_ok=True)
    progress(f"{dest.name}: the shipped model ({fingerprint}) -> {dest}")
