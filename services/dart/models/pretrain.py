"""Pre-train a tiny target in one style of the repertoire, and the mapper's starting point.

    from dart.models.pretrain import PretrainRecipe, pretrain_tiny_models
    paths = pretrain_tiny_models(Path("tiny-models"))      # -> tiny-models/{target,mapper}
    # or: dart tiny-models --out tiny-models --pretrain [--target-style opword-boxed]

1. target: a fresh tiny model trained on the old skills (addition) written in one member of
   the repertoire (`target_style`, `native` by default), so it has a style of its own and
   skills to retain.
2. mapper: a fresh model (of its own size, the same tokenizer) trained to rewrite expert
   solutions (both expert styles) into every member of the repertoire, dealt without
   preference: true additions, and workings with random digits for both operators (copy
   practice: nothing to compute, so it learns to read the lines from the expert text). It
   never sees a true subtraction nor a target, so it favours no target's style: which member
   its target likes is what RL has to find (issue #16, examples/synthetic-task.md).

The two are built and named apart: one mapper serves every target. Each model folder holds
a marker with its fingerprint; a folder whose marker matches is reused, anything else is
rebuilt in a staging folder and renamed into place.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from dart.data.synthetic import generate_split
from dart.data.synthetic.copying import copy_practice, dealt_styles
from dart.data.synthetic.repertoire import REPERTOIRE
from dart.data.synthetic.styles import EXPERT_STYLES
from dart.models.tiny import build_tiny_model, staging_dir
from dart.models.training import train_on_pairs
from dart.prompts import (
    PROMPT_FORMAT_VERSION,
    mapper_prompt_and_completion,
    target_prompt_and_completion,
)

MARKER = "dart-pretrain.json"
TARGET_RECIPE_VERSION = "tiny-pretrain-v3"  # bump when the target's task or training change
MAPPER_RECIPE_VERSION = "tiny-mapper-v4"  # bump when the mapper's practice or training change
Progress = Callable[[str], None]


@dataclass(frozen=True)
class PretrainRecipe:
    """Everything that decides the pre-trained weights; its fingerprint names the cache."""

    seed: int = 0
    target_corpus: int = 20_000
    """Old-skill problems the target trains on, written in `target_style`."""
    target_steps: int = 2_000
    """The column facts click late: a 1,000-step schedule left the target at ~0%; 1,500 and
    2,000 both reach 100% held out (examples/synthetic-task.md)."""
    target_lr: float = 3e-3
    batch_size: int = 32
    target_style: str = "native"
    """The repertoire member the target is pre-trained in: its native style."""
    mapper_size: str = "mapper"
    """Shape of the mapper (dart.models.tiny.SIZES); it is trained from scratch."""
    mapper_corpus: int = 4_000
    """Old-skill problems rendered expert -> a repertoire member for rewriting practice."""
    mapper_steps: int = 1_500
    """From scratch, 300 steps (lr 2e-3) learnt every member's layout (90% of samples a
    member, none above 1.4x its share) but copied no digit (0% of answers kept): copying
    comes later (examples/synthetic-task.md)."""
    mapper_batch_size: int = 16
    """Smaller than the target's: a rewrite example is ~4x longer (expert text in the prompt)."""
    mapper_lr: float = 3e-3
    mapper_copy_fraction: float = 0.75
    """Share of the rewrite practice that is copy practice (random digits, both operators).
    A mapper that had practised only true additions wrote addition lines for subtractions
    and kept 8% of their answers (examples/synthetic-task.md)."""
    mapper_copy_seed: int = 7
    """The draw of copy practice (tests/models checks the built mapper)."""

    def __post_init__(self):
        if self.target_style not in REPERTOIRE:
            raise ValueError(f"unknown target style {self.target_style!r}; choose one of: "
                             f"{', '.join(REPERTOIRE)}")

    def fingerprint(self) -> str:
        """Names the pair."""
        return _digest({"target": self.target_fingerprint(),
                        "mapper": self.mapper_fingerprint()}, "pair")

    def target_fingerprint(self) -> str:
        """Names the target alone. `target_style` enters only when it is not `native`: the
        native target is built exactly as before the field existed, and keeps its name."""
        fields = {k: v for k, v in asdict(self).items()
                  if not k.startswith("mapper") and k != "target_style"}
        if self.target_style != "native":
            fields["target_style"] = self.target_style
        return _digest(fields, TARGET_RECIPE_VERSION)

    def mapper_fingerprint(self) -> str:
        """Names the mapper alone: it depends on no target field, so one serves them all."""
        fields = {k: v for k, v in asdict(self).items() if k.startswith("mapper") or k == "seed"}
        return _digest(fields, MAPPER_RECIPE_VERSION)


def _digest(fields: dict, version: str) -> str:
    payload = fields | {"recipe": version, "prompts": PROMPT_FORMAT_VERSION}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class TinyModelPaths:
    target: Path
    mapper: Path


def pretrain_tiny_models(out_dir: Path, recipe: PretrainRecipe = PretrainRecipe(), *,
                         progress: Progress = print, threads: int = 1,
                         paths: TinyModelPaths | None = None) -> TinyModelPaths:
    """Pre-trained target and mapper under `out_dir` (or at `paths`), reused when their
    markers match.

    One torch thread by default: on a shared 2-core machine two threads per process
    oversubscribe the cores and measured 3-5x slower per step than one.
    """
    torch.set_num_threads(threads)
    paths = paths or TinyModelPaths(Path(out_dir) / "target", Path(out_dir) / "mapper")
    if not is_current(paths.target, recipe.target_fingerprint()):
        _build(paths.target, recipe, recipe.target_fingerprint(), progress, _train_target,
               "target", TARGET_RECIPE_VERSION)
    if not is_current(paths.mapper, recipe.mapper_fingerprint()):
        _build(paths.mapper, recipe, recipe.mapper_fingerprint(), progress, _train_mapper,
               "mapper", MAPPER_RECIPE_VERSION)
    progress(f"tiny models ready in {out_dir} (recipe {recipe.fingerprint()})")
    return paths


def cached_tiny_models(recipe: PretrainRecipe = PretrainRecipe(), *,
                       cache_root: Path | None = None, progress: Progress = print
                       ) -> TinyModelPaths:
    """The pre-trained pair from a shared cache ($DART_TINY_CACHE, else ~/.cache/dart/tiny-models),
    in a folder named by the recipe's fingerprint; built once, even by parallel test sessions
    (they wait on a file lock), so tests and demos pay the minutes of pre-training once.
    A model of the same fingerprint in a sibling folder is copied, not trained again."""
    root = cache_root or Path(os.environ.get("DART_TINY_CACHE",
                                             Path.home() / ".cache/dart/tiny-models"))
    folder = Path(root) / recipe.fingerprint()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _reuse_cached_models(folder, recipe, progress)
        return pretrain_tiny_models(folder, recipe, progress=progress)


def _reuse_cached_models(folder: Path, recipe: PretrainRecipe, progress: Progress) -> None:
    """A recipe that changes only one model reuses the other (minutes of pre-training) from
    a sibling folder instead of training it again."""
    for name, wanted in (("target", recipe.target_fingerprint()),
                         ("mapper", recipe.mapper_fingerprint())):
        if not is_current(folder / name, wanted):
            _copy_sibling(folder, name, wanted, progress)


def _copy_sibling(folder: Path, name: str, wanted: str, progress: Progress) -> None:
    for sibling in sorted(folder.parent.iterdir()):
        if sibling != folder and is_current(sibling / name, wanted):
            progress(f"{name}: reusing {sibling / name}")
            with staging_dir(folder / name) as staging:
                shutil.copytree(sibling / name, staging, dirs_exist_ok=True)
            return


def is_current(model_dir: Path, fingerprint: str) -> bool:
    """True when `model_dir` holds a finished build with this fingerprint."""
    marker = Path(model_dir) / MARKER
    if not marker.exists():
        return False
    return json.loads(marker.read_text()).get("fingerprint") == fingerprint


def _build(model_dir: Path, recipe: PretrainRecipe, fingerprint: str, progress: Progress,
           train, name: str, version: str) -> None:
    progress(f"{name}: building ({fingerprint})")
    started = time.perf_counter()
    with staging_dir(model_dir) as staging:
        model, tokenizer = train(staging, recipe, progress)
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        seconds = round(time.perf_counter() - started, 1)
        marker = {"fingerprint": fingerprint, "recipe": asdict(recipe),
                  "recipe_version": version, "prompt_format_version": PROMPT_FORMAT_VERSION,
                  "train_seconds": seconds}
        (staging / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    progress(f"{name}: done in {seconds} s -> {model_dir}")


def _load(path: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def _train_target(staging: Path, recipe: PretrainRecipe, progress: Progress):
    """A fresh tiny model trained on the old skills written in `recipe.target_style`."""
    model, tokenizer = _load(build_tiny_model(staging / "init", seed=recipe.seed))
    _train(model, tokenizer, target_pairs(tokenizer, recipe), recipe.target_steps,
           recipe.target_lr, recipe.batch_size, recipe.seed, progress)
    shutil.rmtree(staging / "init", ignore_errors=True)
    return model, tokenizer


def target_pairs(tokenizer, recipe: PretrainRecipe) -> list[tuple[str, str]]:
    """Old-skill problems solved in the target's style."""
    rows = generate_split("pretrain", seed=recipe.seed, size=recipe.target_corpus,
                          style=recipe.target_style)
    return [target_prompt_and_completion(tokenizer, r["question"], r["solution"]) for r in rows]


def _train_mapper(staging: Path, recipe: PretrainRecipe, progress: Progress):
    """A fresh model of the mapper's size, taught to rewrite into every repertoire member."""
    init = build_tiny_model(staging / "init", size=recipe.mapper_size, seed=recipe.seed + 1)
    model, tokenizer = _load(init)
    _train(model, tokenizer, mapper_pairs(tokenizer, recipe), recipe.mapper_steps,
           recipe.mapper_lr, recipe.mapper_batch_size, recipe.seed, progress)
    shutil.rmtree(staging / "init", ignore_errors=True)
    return model, tokenizer


def mapper_pairs(tokenizer, recipe: PretrainRecipe) -> list[tuple[str, str]]:
    """Rewrite practice, expert or expert-short -> a member dealt without preference: true
    old-skill problems, then copy practice."""
    seed, size = recipe.seed + 1, recipe.mapper_corpus  # other problems than the target's
    experts = [generate_split("pretrain", seed=seed, size=size, style=s) for s in EXPERT_STYLES]
    members = {s: generate_split("pretrain", seed=seed, size=size, style=s) for s in REPERTOIRE}
    styles = dealt_styles(random.Random(f"{seed}:mapper-styles"), size)
    pairs = []
    for index, style in enumerate(styles):
        expert = experts[index % 2][index]
        pairs.append(mapper_prompt_and_completion(
            tokenizer, expert["question"], expert["solution"], members[style][index]["solution"]))
    copies = int(size * recipe.mapper_copy_fraction / (1 - recipe.mapper_copy_fraction))
    pairs += [mapper_prompt_and_completion(tokenizer, c["question"], c["expert"], c["rewrite"])
              for c in copy_practice(seed=recipe.mapper_copy_seed, size=copies)]
    return pairs


def _train(model, tokenizer, pairs, steps: int, lr: float, batch_size: int, seed: int,
           progress: Progress) -> None:
    started = time.perf_counter()

    def report(step: int, loss: float) -> None:
        if step % 50 == 0 or step == steps - 1:
            elapsed = time.perf_counter() - started
            progress(f"  step {step + 1}/{steps}  loss {loss:.4f}  {elapsed:.0f} s")

    train_on_pairs(model, tokenizer, pairs, steps=steps, batch_size=batch_size, lr=lr,
                   seed=seed, on_step=report)

