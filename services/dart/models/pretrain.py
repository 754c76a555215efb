"""Pre-train the tiny targets, each in its own native style, and the general mapper.

    from dart.models.pretrain import PretrainRecipe, pretrain_tiny_models
    paths = pretrain_tiny_models(Path("tiny-models"))  # -> tiny-models/{target,target-*,mapper}
    # or: dart tiny-models --out tiny-models --pretrain

1. targets: fresh tiny models trained on the old skill (addition), each written in one member
   of the repertoire (`native` -> DIR/target, any other member -> DIR/target-MEMBER), so each
   has a style of its own and skills to retain.
2. repertoire base: the same training with every member alike (dealt like cards): a model
   of the task with no preferred style, as a general pre-trained LM is for a real target.
3. mapper: the base, taught to rewrite expert-style (both expert styles) solutions into a
   member dealt like cards: true additions, workings with random digits for both operators
   (copy practice: nothing to compute, so it learns to read the lines from the expert text),
   and some solving in every member so it stays a model of all of them. It never sees a true
   subtraction nor a preference among the members: which one a target likes is what RL has
   to find (issue #16; examples/synthetic-task.md).

Each model folder holds a marker with its fingerprint; a folder whose marker matches is
reused, anything else is rebuilt in a staging folder and renamed into place. The mapper does
not depend on the targets: one mapper serves every target.
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

from dart.data.synthetic import EVERY_MEMBER, generate_split
from dart.data.synthetic.copying import copy_practice
from dart.data.synthetic.repertoire import TARGET_STYLES
from dart.errors import UserError
from dart.models.tiny import build_tiny_model, staging_dir
from dart.models.training import train_on_pairs
from dart.prompts import (
    PROMPT_FORMAT_VERSION,
    mapper_prompt_and_completion,
    target_prompt_and_completion,
)

MARKER = "dart-pretrain.json"
TARGET_RECIPE_VERSION = "tiny-pretrain-v3"  # bump when a target's task or training changes
MAPPER_RECIPE_VERSION = "tiny-pretrain-v5"  # v5: result and answer lines at fixed width
BASE = "repertoire-base"
Progress = Callable[[str], None]

TARGET_FIELDS = ("seed", "target_corpus", "target_steps", "target_lr", "batch_size")
"""What a target (and the repertoire base) is trained with; the mapper depends on them too."""


@dataclass(frozen=True)
class PretrainRecipe:
    """Everything that decides the pre-trained weights; fingerprints name the caches."""

    seed: int = 0
    target_corpus: int = 20_000
    """Old-skill problems a target (or the repertoire base) trains on."""
    target_steps: int = 2_000
    """The column facts click late: a 1,000-step schedule left the target at ~0%; 1,500 and
    2,000 both reach 100% held out, but only the mapper built on the 2,000-step target kept
    any new-skill answers (10%, against 0%), which GRPO needs (examples/synthetic-task.md)."""
    target_lr: float = 3e-3
    batch_size: int = 32
    target_styles: tuple[str, ...] = TARGET_STYLES
    """The members the targets are pre-trained in (any member works)."""
    mapper_corpus: int = 4_000
    """Old-skill problems rendered expert -> a dealt member for the mapper's rewriting practice."""
    mapper_steps: int = 2_000
    """Copying the new skill's digits comes last. With results written unpadded the general
    mapper lost almost every subtraction whose result is under 100 (a digit read at the
    wrong offset), at 1,200 steps and at 2,000; with fixed-width lines (v5) it keeps 0.83 of
    them greedy at 2,000 steps and at 3,000, while 1,200-1,600 steps left it mid-way (the
    column lines of the prose half-learnt: old-skill answers 0.08-0.10). The draw matters too:
    copy seed 8 at 2,000 steps kept 0.04 / 0.40 (BENCHMARKS.md)."""
    mapper_batch_size: int = 16
    """Smaller than the target's: a rewrite example is ~4x longer (expert text in the prompt)."""
    mapper_lr: float = 2e-3
    mapper_solving_fraction: float = 0.25
    """Share of the mapper's batches that are plain solving, in every member alike."""
    mapper_copy_fraction: float = 0.75
    """Share of the rewrite practice that is copy practice (random digits, both operators).
    Without it a mapper built from a model that adds wrote addition lines for subtractions
    and kept 8% of their answers (examples/synthetic-task.md)."""
    mapper_copy_seed: int = 7
    """The draw of copy practice (tests/models checks the built mapper)."""

    def target_fingerprint(self, style: str = "native") -> str:
        """Names one target (`native`'s is the one from before the repertoire: unchanged)."""
        fields = {k: getattr(self, k) for k in TARGET_FIELDS}
        return _digest(fields if style == "native" else fields | {"target_style": style},
                       TARGET_RECIPE_VERSION)

    def base_fingerprint(self) -> str:
        return self.target_fingerprint(EVERY_MEMBER)

    def fingerprint(self) -> str:
        """Names the mapper: the base's fields and its own, not the targets' styles."""
        fields = {k: v for k, v in asdict(self).items() if k != "target_styles"}
        return _digest(fields, MAPPER_RECIPE_VERSION)


def _digest(fields: dict, version: str) -> str:
    payload = fields | {"recipe": version, "prompts": PROMPT_FORMAT_VERSION}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def target_folder(style: str) -> str:
    """`target` for the native member (the examples' path), else `target-MEMBER`."""
    return "target" if style == "native" else f"target-{style}"


@dataclass(frozen=True)
class TinyModelPaths:
    root: Path
    styles: tuple[str, ...] = ("native",)

    @property
    def target(self) -> Path:
        """The first target (native in the default recipe)."""
        return self.target_for(self.styles[0])

    @property
    def mapper(self) -> Path:
        return self.root / "mapper"

    def target_for(self, style: str) -> Path:
        return self.root / target_folder(style)

    def models(self, recipe: PretrainRecipe) -> dict[Path, str]:
        """Every folder of a finished build and the fingerprint its marker must carry."""
        wanted = {self.target_for(s): recipe.target_fingerprint(s) for s in self.styles}
        return wanted | {self.mapper: recipe.fingerprint()}


def pretrain_tiny_models(out_dir: Path, recipe: PretrainRecipe = PretrainRecipe(), *,
                         progress: Progress = print, threads: int = 1) -> TinyModelPaths:
    """Pre-trained targets and mapper under `out_dir`, reused when their markers match.

    One torch thread by default: on a shared 2-core machine two threads per process
    oversubscribe the cores and measured 3-5x slower per step than one.
    """
    for style in recipe.target_styles:
        _check_member(style)
    torch.set_num_threads(threads)
    paths = TinyModelPaths(Path(out_dir), recipe.target_styles)
    if not is_current(paths.mapper, recipe.fingerprint()):
        base = paths.root / BASE
        if not is_current(base, recipe.base_fingerprint()):
            _build(base, recipe, recipe.base_fingerprint(), progress,
                   _train_target(EVERY_MEMBER), BASE)
        _build(paths.mapper, recipe, recipe.fingerprint(), progress, _train_mapper(base),
               "mapper", MAPPER_RECIPE_VERSION)
    for style in recipe.target_styles:
        if not is_current(paths.target_for(style), recipe.target_fingerprint(style)):
            _build(paths.target_for(style), recipe, recipe.target_fingerprint(style), progress,
                   _train_target(style), target_folder(style))
    progress(f"tiny models ready in {out_dir} (mapper recipe {recipe.fingerprint()})")
    return paths


def _check_member(style: str) -> None:
    from dart.data.synthetic.repertoire import REPERTOIRE

    if style not in REPERTOIRE:
        raise UserError(f"target style {style!r} is not a member of the repertoire; choose one "
                        f"of: {', '.join(REPERTOIRE)}")


def cached_tiny_models(recipe: PretrainRecipe = PretrainRecipe(), *,
                       cache_root: Path | None = None, progress: Progress = print
                       ) -> TinyModelPaths:
    """The pre-trained models from a shared cache ($DART_TINY_CACHE, else
    ~/.cache/dart/tiny-models), in a folder named by the mapper's fingerprint; built once, even
    by parallel test sessions (they wait on a file lock)."""
    root = cache_root or Path(os.environ.get("DART_TINY_CACHE",
                                             Path.home() / ".cache/dart/tiny-models"))
    folder = Path(root) / recipe.fingerprint()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _reuse_cached_models(folder, recipe, progress)
        return pretrain_tiny_models(folder, recipe, progress=progress)


def _reuse_cached_models(folder: Path, recipe: PretrainRecipe, progress: Progress) -> None:
    """A recipe that changes only the mapper reuses cached targets and base (minutes of
    pre-training each) from sibling folders instead of training them again."""
    wanted = {target_folder(s): recipe.target_fingerprint(s) for s in recipe.target_styles}
    wanted[BASE] = recipe.base_fingerprint()
    for name, fingerprint in wanted.items():
        if is_current(folder / name, fingerprint):
            continue
        for sibling in sorted(folder.parent.iterdir()):
            if sibling != folder and is_current(sibling / name, fingerprint):
                progress(f"{name}: reusing {sibling / name}")
                with staging_dir(folder / name) as staging:
                    shutil.copytree(sibling / name, staging, dirs_exist_ok=True)
                break


def is_current(model_dir: Path, fingerprint: str) -> bool:
    """True when `model_dir` holds a finished build with this fingerprint."""
    marker = Path(model_dir) / MARKER
    if not marker.exists():
        return False
    return json.loads(marker.read_text()).get("fingerprint") == fingerprint


def _build(model_dir: Path, recipe: PretrainRecipe, fingerprint: str, progress: Progress,
           train, name: str, version: str = TARGET_RECIPE_VERSION) -> None:
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


def _train_target(style: str):
    def train(staging: Path, recipe: PretrainRecipe, progress: Progress):
        """A fresh tiny model trained on old-skill solutions written in `style` (a member, or
        every member alike for the repertoire base)."""
        model, tokenizer = _load(build_tiny_model(staging / "init", seed=recipe.seed))
        rows = generate_split("pretrain", seed=recipe.seed, size=recipe.target_corpus,
                              style=style)
        pairs = [target_prompt_and_completion(tokenizer, r["question"], r["solution"])
                 for r in rows]
        _train(model, tokenizer, pairs, recipe.target_steps, recipe.target_lr,
               recipe.batch_size, recipe.seed, progress)
        shutil.rmtree(staging / "init", ignore_errors=True)
        return model, tokenizer

    return train


def _train_mapper(base_dir: Path):
    def train(staging: Path, recipe: PretrainRecipe, progress: Progress):
        """The repertoire base, taught to rewrite expert solutions into dealt members."""
        model, tokenizer = _load(base_dir)
        pairs = mapper_pairs(tokenizer, recipe)
        _train(model, tokenizer, pairs, recipe.mapper_steps, recipe.mapper_lr,
               recipe.mapper_batch_size, recipe.seed, progress)
        return model, tokenizer

    return train


def mapper_pairs(tokenizer, recipe: PretrainRecipe) -> list[tuple[str, str]]:
    """Rewrite practice (expert or expert-short -> a dealt member: old skills and copy
    practice) plus solving in dealt members. Every member is equally often the answer."""
    seed, size = recipe.seed + 1, recipe.mapper_corpus  # other problems than the targets'
    dealt = generate_split("pretrain", seed=seed, size=size, style=EVERY_MEMBER)
    experts = [generate_split("pretrain", seed=seed, size=size, style=s)
               for s in ("expert", "expert-short")]
    pairs = [mapper_prompt_and_completion(tokenizer, d["question"], experts[i % 2][i]["solution"],
                                          d["solution"]) for i, d in enumerate(dealt)]
    copies = int(size * recipe.mapper_copy_fraction / (1 - recipe.mapper_copy_fraction))
    pairs += [mapper_prompt_and_completion(tokenizer, c["question"], c["expert"], c["rewrite"])
              for c in copy_practice(seed=recipe.mapper_copy_seed, size=copies,
                                     rewrite_style=EVERY_MEMBER)]
    solving = int(len(pairs) * recipe.mapper_solving_fraction
                  / (1 - recipe.mapper_solving_fraction))
    solved = generate_split("pretrain", seed=seed + 1, size=solving, style=EVERY_MEMBER)
    pairs += [target_prompt_and_completion(tokenizer, r["question"], r["solution"])
              for r in solved]
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

