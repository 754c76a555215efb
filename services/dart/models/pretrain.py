"""Pre-train the tiny target on its native skills and derive the mapper's starting point.

    from dart.models.pretrain import PretrainRecipe, pretrain_tiny_models
    paths = pretrain_tiny_models(Path("tiny-models"))      # -> tiny-models/{target,mapper}
    # or: dart tiny-models --out tiny-models --pretrain

1. target: a fresh tiny model trained on native-style solutions of the old skills (addition,
   chained addition), so it has a style of its own and skills to retain.
2. mapper: the trained target, further trained to rewrite expert-style (both expert styles)
   solutions into its native style: true additions (an old skill), workings with random
   digits for both operators (copy practice: nothing to compute, so it learns to read the
   lines from the expert text), and some native solving so it stays a model of that style.
   It never sees a true subtraction, yet copies the new skill's working faithfully (99% of
   sampled rewrites keep the answer); what RL adds is staying faithful while it explores
   (examples/synthetic-task.md).

Each model folder holds a marker with the recipe's fingerprint; a folder whose marker matches
is reused, anything else is rebuilt in a staging folder and renamed into place.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from dart.data.synthetic import generate_split
from dart.data.synthetic.copying import copy_practice
from dart.models.tiny import build_tiny_model, staging_dir
from dart.models.training import train_on_pairs
from dart.prompts import (
    PROMPT_FORMAT_VERSION,
    mapper_prompt_and_completion,
    target_prompt_and_completion,
)

MARKER = "dart-pretrain.json"
RECIPE_VERSION = "tiny-pretrain-v3"  # bump when the task, styles or training code change
Progress = Callable[[str], None]


@dataclass(frozen=True)
class PretrainRecipe:
    """Everything that decides the pre-trained weights; its fingerprint names the cache."""

    seed: int = 0
    target_corpus: int = 20_000
    """Native-style old-skill problems the target trains on."""
    target_steps: int = 2_000
    """The column facts click late: a 1,000-step schedule left the target at ~0%; 1,500 and
    2,000 both reach 100% held out, but only the mapper built on the 2,000-step target kept
    any new-skill answers (10%, against 0%), which GRPO needs (examples/synthetic-task.md)."""
    target_lr: float = 3e-3
    batch_size: int = 32
    mapper_corpus: int = 4_000
    """Old-skill problems rendered expert -> native for the mapper's rewriting practice."""
    mapper_steps: int = 1_200
    """At 250 steps the mapper wrote native lines with wrong digits; at 600 it keeps the
    answer of every old-skill rewrite; new-skill rewrites took 1,200 (800 kept 68% of their
    answers sampled, 1,200 kept 99%: examples/synthetic-task.md)."""
    mapper_batch_size: int = 16
    """Smaller than the target's: a rewrite example is ~4x longer (expert text in the prompt)."""
    mapper_lr: float = 2e-3
    mapper_native_fraction: float = 0.25
    """Share of the mapper's batches that are plain native solving (keeps its own style)."""
    mapper_copy_fraction: float = 0.75
    """Share of the rewrite practice that is copy practice (random digits, both operators).
    Without it the mapper, built from a target that adds, wrote addition lines for
    subtractions and kept 8% of their answers (examples/synthetic-task.md)."""
    mapper_copy_seed: int = 7
    """The draw of copy practice (tests/models checks the built mapper)."""

    def fingerprint(self) -> str:
        """Names the whole build (the mapper depends on every field)."""
        return _digest(asdict(self))

    def target_fingerprint(self) -> str:
        """Names the target alone, so a change to the mapper's settings keeps the target."""
        return _digest({k: v for k, v in asdict(self).items() if not k.startswith("mapper")})


def _digest(fields: dict) -> str:
    payload = fields | {"recipe": RECIPE_VERSION, "prompts": PROMPT_FORMAT_VERSION}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class TinyModelPaths:
    target: Path
    mapper: Path


def pretrain_tiny_models(out_dir: Path, recipe: PretrainRecipe = PretrainRecipe(), *,
                         progress: Progress = print, threads: int = 1) -> TinyModelPaths:
    """Pre-trained target and mapper under `out_dir`, reused when their markers match.

    One torch thread by default: on a shared 2-core machine two threads per process
    oversubscribe the cores and measured 3-5x slower per step than one.
    """
    torch.set_num_threads(threads)
    paths = TinyModelPaths(Path(out_dir) / "target", Path(out_dir) / "mapper")
    if not is_current(paths.target, recipe.target_fingerprint()):
        _build(paths.target, recipe, recipe.target_fingerprint(), progress, _train_target, "target")
    if not is_current(paths.mapper, recipe.fingerprint()):
        _build(paths.mapper, recipe, recipe.fingerprint(), progress, _train_mapper(paths.target),
               "mapper")
    progress(f"tiny models ready in {out_dir} (recipe {recipe.fingerprint()})")
    return paths


def cached_tiny_models(recipe: PretrainRecipe = PretrainRecipe(), *,
                       cache_root: Path | None = None, progress: Progress = print
                       ) -> TinyModelPaths:
    """The pre-trained pair from a shared cache ($DART_TINY_CACHE, else ~/.cache/dart/tiny-models),
    in a folder named by the recipe's fingerprint; built once, even by parallel test sessions
    (they wait on a file lock), so tests and demos pay the minutes of pre-training once."""
    root = cache_root or Path(os.environ.get("DART_TINY_CACHE",
                                             Path.home() / ".cache/dart/tiny-models"))
    folder = Path(root) / recipe.fingerprint()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _reuse_cached_target(folder, recipe, progress)
        return pretrain_tiny_models(folder, recipe, progress=progress)


def _reuse_cached_target(folder: Path, recipe: PretrainRecipe, progress: Progress) -> None:
    """A recipe that changes only the mapper reuses a cached target (minutes of pre-training)
    from a sibling folder instead of training it again."""
    wanted = recipe.target_fingerprint()
    if is_current(folder / "target", wanted):
        return
    for sibling in sorted(folder.parent.iterdir()):
        if sibling != folder and is_current(sibling / "target", wanted):
            progress(f"target: reusing {sibling / 'target'}")
            with staging_dir(folder / "target") as staging:
                shutil.copytree(sibling / "target", staging, dirs_exist_ok=True)
            return


def is_current(model_dir: Path, fingerprint: str) -> bool:
    """True when `model_dir` holds a finished build with this fingerprint."""
    marker = Path(model_dir) / MARKER
    if not marker.exists():
        return False
    return json.loads(marker.read_text()).get("fingerprint") == fingerprint


def _build(model_dir: Path, recipe: PretrainRecipe, fingerprint: str, progress: Progress,
           train, name: str) -> None:
    progress(f"{name}: building ({fingerprint})")
    started = time.perf_counter()
    with staging_dir(model_dir) as staging:
        model, tokenizer = train(staging, recipe, progress)
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        seconds = round(time.perf_counter() - started, 1)
        marker = {"fingerprint": fingerprint, "recipe": asdict(recipe),
                  "recipe_version": RECIPE_VERSION, "prompt_format_version": PROMPT_FORMAT_VERSION,
                  "train_seconds": seconds}
        (staging / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    progress(f"{name}: done in {seconds} s -> {model_dir}")


def _load(path: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def _train_target(staging: Path, recipe: PretrainRecipe, progress: Progress):
    """A fresh tiny model trained on native-style solutions of the old skills."""
    model, tokenizer = _load(build_tiny_model(staging / "init", seed=recipe.seed))
    rows = generate_split("pretrain", seed=recipe.seed, size=recipe.target_corpus)
    pairs = [target_prompt_and_completion(tokenizer, r["question"], r["solution"]) for r in rows]
    _train(model, tokenizer, pairs, recipe.target_steps, recipe.target_lr, recipe.batch_size,
           recipe.seed, progress)
    shutil.rmtree(staging / "init", ignore_errors=True)
    return model, tokenizer


def _train_mapper(target_dir: Path):
    def train(staging: Path, recipe: PretrainRecipe, progress: Progress):
        """The trained target, taught to rewrite old-skill expert solutions natively."""
        model, tokenizer = _load(target_dir)
        pairs = mapper_pairs(tokenizer, recipe)
        _train(model, tokenizer, pairs, recipe.mapper_steps, recipe.mapper_lr,
               recipe.mapper_batch_size, recipe.seed, progress)
        return model, tokenizer

    return train


def mapper_pairs(tokenizer, recipe: PretrainRecipe) -> list[tuple[str, str]]:
    """Rewrite practice (expert or expert-short -> native: old skills and copy practice)
    plus native solving."""
    seed, size = recipe.seed + 1, recipe.mapper_corpus  # other problems than the target's
    native = generate_split("pretrain", seed=seed, size=size, style="native")
    experts = [generate_split("pretrain", seed=seed, size=size, style=s)
               for s in ("expert", "expert-short")]
    pairs = [mapper_prompt_and_completion(tokenizer, n["question"], experts[i % 2][i]["solution"],
                                          n["solution"]) for i, n in enumerate(native)]
    copies = int(size * recipe.mapper_copy_fraction / (1 - recipe.mapper_copy_fraction))
    pairs += [mapper_prompt_and_completion(tokenizer, c["question"], c["expert"], c["native"])
              for c in copy_practice(seed=recipe.mapper_copy_seed, size=copies)]
    solving = int(len(pairs) * recipe.mapper_native_fraction / (1 - recipe.mapper_native_fraction))
    pairs += [target_prompt_and_completion(tokenizer, n["question"], n["solution"])
              for n in native[:solving]]
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

