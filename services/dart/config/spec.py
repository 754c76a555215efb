"""The DartRun spec: the one configuration every DART process and the operator read.

The same YAML document is read by `dart run` on one machine and applied with kubectl in a
cluster; the CRD's OpenAPI schema is generated from these models (`dart crd`). Defaults run
the bundled synthetic task on CPU. Field names are camelCase in YAML (Kubernetes style) and
snake_case in Python.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from dart.config.base import CelRule, SpecModel
from dart.config.limits import MAX_NEW_TOKENS, MAX_SAMPLES_PER_PROMPT, MAX_SEED

API_VERSION = "dart.ai/v1alpha1"
KIND = "DartRun"

# Go's RE2 (API server) and Rust's regex (pydantic) both lack look-around: keep patterns plain.
MODEL_URI_PATTERN = (
    r"^(hf://[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)?(@[A-Za-z0-9._/-]+)?"
    r"|pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?/[^\s]+"
    r"|(s3|gs)://[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]/[^\s]+"
    r"|[^:\s][^:]*)$"
)
DATA_PATH_PATTERN = (
    r"^(pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?/[^\s]+"
    r"|(s3|gs)://[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]/[^\s]+"
    r"|hf://datasets/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+(@[A-Za-z0-9._/-]+)?"
    r"|[^:\s][^:]*)$"
)
EXPORT_URI_PATTERN = (r"^((s3|gs)://[a-z0-9][a-z0-9._-]{1,61}[a-z0-9](/[^\s]*)?"
                      r"|hf://[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*)$")
MLFLOW_URI_PATTERN = (r"^(https?://[^\s/]+(/[^\s]*)?|databricks(://[^\s]+)?|file:[^\s]+"
                      r"|[^:\s][^:]*)$")
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
RUN_NAME_PATTERN = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
"""A DNS-1035 label: the run's Services are named after it, and Service names must start with
a letter (a DNS-1123 name such as `1run` is stored by the API server, then its Services are not)."""
MAX_RUN_NAME = 40
"""Children are named `<run>-<unit>`, and those names stay within 63 characters."""
QUANTITY_PATTERN = r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$"
NO_RL, NO_PENALTIES, GRAPE = "no-rl", "no-penalties", "grape"  # ablation names (dart.arms)
ABLATION_PATTERN = rf"^({NO_PENALTIES}|{NO_RL}|{GRAPE}(-k([1-9]|1[0-6]))?)$"
"""`grape-kN`: GRAPE with N untrained candidates per demonstration (at most
MAX_SAMPLES_PER_PROMPT, what one generator request may ask for)."""

# What each pattern means, in words, for error messages.
PATTERN_MEANINGS = {
    MODEL_URI_PATTERN: ("expected a local path, pvc://CLAIM/PATH, hf://ORG/NAME@REVISION, "
                        "s3://BUCKET/PREFIX or gs://BUCKET/PREFIX"),
    DATA_PATH_PATTERN: ("expected a local path, pvc://CLAIM/PATH, s3://BUCKET/KEY, "
                        "gs://BUCKET/KEY or hf://datasets/ORG/NAME@REVISION"),
    EXPORT_URI_PATTERN: ("expected s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or hf://ORG/NAME "
                         "(a hub model repo; the dataset goes to the dataset repo of that name)"),
    MLFLOW_URI_PATTERN: "expected an MLflow server (http://HOST or https://HOST), databricks, "
    "or a local folder (file:PATH or PATH) for a file store",
    DNS_LABEL_PATTERN: "expected a DNS label: lowercase letters, digits and '-', "
    "starting and ending with a letter or digit",
    RUN_NAME_PATTERN: "expected a run name: lowercase letters, digits and '-', starting with "
    "a letter (its Services are named after it) and ending with a letter or digit",
    QUANTITY_PATTERN: "expected a Kubernetes quantity such as 500m, 2, 4Gi",
    ABLATION_PATTERN: f"expected {NO_PENALTIES}, {NO_RL}, {GRAPE}, or {GRAPE}-kN with N from 1 to "
    f"{MAX_SAMPLES_PER_PROMPT} (GRAPE with N untrained candidates)",
}

DnsLabel = Annotated[str, Field(pattern=DNS_LABEL_PATTERN, max_length=63)]
Quantity = Annotated[str, Field(pattern=QUANTITY_PATTERN)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
NewTokens = Annotated[int, Field(ge=1, le=MAX_NEW_TOKENS)]


def _exactly_one_of(*fields: str) -> CelRule:
    present = ", ".join(f"has(self.{f})" for f in fields)
    names = " | ".join(fields)
    return CelRule(
        rule=f"[{present}].filter(x, x).size() == 1",
        message_expression=f"'set exactly one of: {names}'",
    )


def _not_above(smaller: str, larger: str) -> CelRule:
    return CelRule(
        rule=f"self.{smaller} <= self.{larger}",
        message_expression=(
            f"'{smaller} (' + string(self.{smaller}) + ') must not exceed {larger} ('"
            f" + string(self.{larger}) + ')'"
        ),
        field_path=f".{smaller}",
    )


def _strictly_below(smaller: str, larger: str) -> CelRule:
    return CelRule(
        rule=f"self.{smaller} < self.{larger}",
        message_expression=(
            f"'{smaller} (' + string(self.{smaller}) + ') must be below {larger} ('"
            f" + string(self.{larger}) + ')'"
        ),
        field_path=f".{smaller}",
    )


# ----------------------------------------------------------------------------- models


class SecretKeyRef(SpecModel):
    """A key inside a Kubernetes Secret; only ever passed to pods as a reference."""

    name: DnsLabel
    """Name of the Secret in the DartRun's namespace."""
    key: str = "token"
    """Key inside the Secret that holds the value."""


class ModelRef(SpecModel):
    """Where a model's weights and tokenizer come from."""

    uri: Annotated[str, Field(pattern=MODEL_URI_PATTERN, min_length=1)]
    """A local path (`./tiny/target`, `/models/qwen`), `pvc://CLAIM/PATH` on a model-cache
    volume, `hf://ORG/NAME@REVISION` from the Hugging Face hub (pin the revision), or
    `s3://BUCKET/PREFIX` / `gs://BUCKET/PREFIX`, a save_pretrained folder in a bucket
    (downloaded once into DART_MODEL_CACHE; credentials as for object-store data)."""
    token_secret: SecretKeyRef | None = None
    """Secret with a hub token, for private `hf://` models only."""

    cel_rules = (
        CelRule(
            rule="!has(self.tokenSecret) || self.uri.startsWith('hf://')",
            message_expression="'tokenSecret is only used with hf:// models, not ' + self.uri",
            field_path=".tokenSecret",
        ),
    )


class LoraSettings(SpecModel):
    """Low-rank adapter settings (peft)."""

    rank: Annotated[int, Field(ge=1, le=1024)] = 16
    """Adapter rank r."""
    alpha: Annotated[int, Field(ge=1)] = 32
    """Scaling numerator; the update is scaled by alpha / rank."""
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    """Dropout on the adapter input during training."""
    target_modules: Annotated[list[str], Field(min_length=1)] = [
        "q_proj", "k_proj", "v_proj", "o_proj",
    ]
    """Names of the linear layers that get adapters."""


class MapperModel(SpecModel):
    """The mapper: the model trained with RL to rewrite demonstrations."""

    init: ModelRef | None = None
    """Starting weights; by default the target itself (it already speaks the target's style)."""
    training: Literal["lora", "full"] = "lora"
    """Train a LoRA adapter (default, cheap to publish to the generator) or all weights."""
    lora: LoraSettings = LoraSettings()
    """Adapter settings when `training` is `lora`."""


class Models(SpecModel):
    """The models of a run."""

    target: ModelRef
    """The model the data is adapted to; it scores rewrites and is fine-tuned at the end."""
    mapper: MapperModel = MapperModel()
    """The rewriting model."""


# ----------------------------------------------------------------------------- data


class FieldMapping(SpecModel):
    """Which record fields hold the question, the worked solution and the final answer."""

    question: str = "question"
    """Field with the problem statement."""
    solution: str = "solution"
    """Field with the expert's worked solution (the demonstration to adapt)."""
    answer: str | None = "answer"
    """Field with the gold final answer; null to extract it from the solution."""


class FileSource(SpecModel):
    """Demonstrations from a file or a saved Hugging Face dataset."""

    path: Annotated[str, Field(pattern=DATA_PATH_PATTERN, min_length=1)]
    """Local path, `pvc://CLAIM/PATH`, an object-store file `s3://BUCKET/KEY` or
    `gs://BUCKET/KEY` (.jsonl or .parquet; credentials from the pod's standard AWS or Google
    environment), or a hub dataset `hf://datasets/ORG/NAME@REVISION` (token: HF_TOKEN)."""
    format: Literal["auto", "jsonl", "parquet", "hf-disk"] = "auto"
    """File format; `auto` decides by extension (a folder is a `datasets.save_to_disk` dump).
    Not used for hub datasets, which `datasets` reads in their own layout."""
    split: str | None = None
    """Split to read from an `hf-disk` DatasetDict or a hub dataset (needed when it has
    several)."""


TargetStyle = Literal["native", "boxed", "carryword", "carryword-boxed", "opword",
                      "opword-boxed", "opword-carryword", "opword-carryword-boxed"]
"""The members of dart.data.synthetic.repertoire (named here so the operator, which reads
this schema, imports no task code; tests/config checks the two agree)."""


class SyntheticSource(SpecModel):
    """The bundled synthetic arithmetic task (expert vs native solution styles), for CPU demos."""

    seed: Seed = 0
    """Seed; the same seed gives byte-identical data."""
    train_size: Annotated[int, Field(ge=1, le=1_000_000)] = 2000
    """Training demonstrations (expert style) to adapt."""
    eval_size: Annotated[int, Field(ge=1, le=100_000)] = 200
    """Problems per evaluation split (in-domain, retention, ood)."""
    expert_style: Literal["expert", "expert-short"] = "expert"
    """Style of the demonstrations: `expert` (wordy, ~3.5x the native length) or
    `expert-short` (foreign layout at native length, to separate style from length)."""
    replay_fraction: Annotated[float, Field(ge=0.0, le=0.9)] = 0.2
    """Fraction of demonstrations that replay old skills (addition), so SFT keeps them and
    retention is measurable."""
    target_style: TargetStyle = "native"
    """The target's native style: the member of the solution-style repertoire it was
    pre-trained in (the shipped target: `native`). The sft-oracle arm writes the problems in
    it, and the learner reports the share of rewrites written in it."""


class ReasoningGymSource(SpecModel):
    """Procedurally generated reasoning problems from the `reasoning-gym` package."""

    task: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")] = "gsm_symbolic"
    """reasoning-gym dataset name, e.g. `gsm_symbolic`."""
    size: Annotated[int, Field(ge=1, le=1_000_000)] = 1000
    """Training demonstrations to generate."""
    eval_size: Annotated[int, Field(ge=1, le=100_000)] = 200
    """Held-out problems for evaluation."""
    seed: Seed = 0
    """Generator seed."""


class Dataset(SpecModel):
    """The fixed, distribution-mismatched SFT data to adapt. Set exactly one source."""

    file: FileSource | None = None
    """Read demonstrations from a file."""
    synthetic: SyntheticSource | None = None
    """Generate the bundled synthetic task."""
    reasoning_gym: ReasoningGymSource | None = None
    """Generate a reasoning-gym task."""
    fields: FieldMapping = FieldMapping()
    """Field names of question / solution / answer in each record."""
    max_bad_fraction: Probability = 0.05
    """Rows with missing fields or an unparseable answer are skipped; above this fraction the
    load fails instead."""
    limit: Annotated[int, Field(ge=1)] | None = None
    """Use at most this many demonstrations (after skipping bad rows)."""
    too_long: Literal["drop", "truncate"] = "drop"
    """A demonstration whose mapper prompt leaves no room for `learn.maxNewTokens` in the
    mapper's context (or exceeds the servers' input limit) is dropped and counted as a bad row,
    or kept with its solution truncated to fit."""

    cel_rules = (_exactly_one_of("file", "synthetic", "reasoningGym"),)


class Verifier(SpecModel):
    """How a final answer is extracted and compared with the gold answer."""

    type: Literal["auto", "numeric", "exact", "math-verify"] = "auto"
    """`numeric`/`exact` for the synthetic task, `math-verify` for free-form math; `auto`
    picks `numeric` for the synthetic task and `math-verify` otherwise."""
    extraction: Literal["auto", "boxed", "answer-line", "last-number"] = "auto"
    """Where the final answer is read: last `\\boxed{}`, an `Answer:` line, or the last number;
    `auto` tries them in that order."""
    timeout_seconds: Annotated[float, Field(gt=0.0, le=60.0)] = 5.0
    """Per-check timeout (math-verify runs in worker processes)."""


# ----------------------------------------------------------------------------- stages


class LengthBand(SpecModel):
    """Allowed rewrite length relative to the expert solution, in target tokens."""

    min_ratio: Annotated[float, Field(gt=0.0)] = 0.3
    """Shortest allowed rewrite, as a fraction of the expert solution's length."""
    max_ratio: Annotated[float, Field(gt=0.0)] = 2.0
    """Longest allowed rewrite, as a multiple of the expert solution's length."""
    penalty: Annotated[float, Field(ge=0.0)] = 0.5
    """Subtracted from the reward when the rewrite falls outside the band."""

    cel_rules = (_strictly_below("minRatio", "maxRatio"),)


class RepetitionPenalty(SpecModel):
    """Penalty for n-gram repetition and filler padding."""

    ngram: Annotated[int, Field(ge=1, le=16)] = 4
    """n-gram size used to measure repetition."""
    max_repeated_fraction: Probability = 0.3
    """Fraction of repeated n-grams tolerated before the penalty applies."""
    penalty: Annotated[float, Field(ge=0.0)] = 0.5
    """Subtracted from the reward when repetition exceeds the tolerance."""


class NumbersPenalty(SpecModel):
    """Penalty for a rewrite whose working states numbers the expert solution does not."""

    min_kept: Probability = 0.0
    """Least fraction of the rewrite's numbers that must restate the expert's, in order. Off
    (0) by default: an honest rewrite may write a number the expert spelled out in words
    ("seven minus five"); turn it on (e.g. 0.9) where the expert writes its working in digits,
    as the bundled task does."""
    penalty: Annotated[float, Field(ge=0.0)] = 2.0
    """Subtracted when fewer are kept: invented working with the gold answer copied at the end
    passes the answer check, and is caught here."""


class OperationsPenalty(SpecModel):
    """Penalty for a rewrite whose working uses an operation the expert solution never does."""

    min_kept: Probability = 0.0
    """Least fraction of the rewrite's operators (`+ - * /` between numbers, or plus / minus /
    times) whose operation the expert also performs. Off (0) by default: prose may say
    "times" for repetition. The bundled task turns it on (1.0): GRPO against a target that
    only ever added taught a mapper to write a subtraction's columns as `5+2+0=3` (the same
    numbers and answer, false arithmetic), which the numbers check passes."""
    penalty: Annotated[float, Field(ge=0.0)] = 2.0
    """Subtracted when fewer are kept."""


class CopyPenalty(SpecModel):
    """Penalty for returning the expert solution verbatim."""

    forbid: bool = False
    """Penalise a rewrite identical to the expert solution."""
    penalty: Annotated[float, Field(ge=0.0)] = 0.5
    """Subtracted from the reward for a verbatim copy when `forbid` is true."""


class Penalties(SpecModel):
    """Anti-cheating penalties; each is logged as its own reward component."""

    enabled: bool = True
    """Turn every penalty off (an ablation that shows the reward hacking that follows)."""
    gate_alignment: bool = True
    """A rewrite that incurs any penalty also loses its alignment terms (they drop to the clip's
    lower bound), so no amount of likelihood buys back a broken rewrite."""
    answer_changed: Annotated[float, Field(ge=0.0)] = 2.0
    """Subtracted when the rewrite's final answer differs from the gold answer."""
    missing_answer: Annotated[float, Field(ge=0.0)] = 2.0
    """Subtracted when the rewrite has no parseable final answer."""
    numbers: NumbersPenalty = NumbersPenalty()
    """Changed-working check: numbers the expert solution never stated."""
    operations: OperationsPenalty = OperationsPenalty()
    """Changed-working check: operations the expert solution never performs."""
    length: LengthBand = LengthBand()
    """Length band relative to the expert solution."""
    repetition: RepetitionPenalty = RepetitionPenalty()
    """Repetition / padding check."""
    copy_expert: CopyPenalty = CopyPenalty()
    """Verbatim-copy check."""


class ClipRange(SpecModel):
    """A closed interval."""

    low: float = -5.0
    """Lower bound."""
    high: float = 5.0
    """Upper bound."""

    cel_rules = (_strictly_below("low", "high"),)


class Reward(SpecModel):
    """Reward = alignment gain under the target minus anti-cheating penalties."""

    alignment_weight: Annotated[float, Field(ge=0.0)] = 1.0
    """Weight of the gain in mean per-token log-prob (rewrite minus expert, nats/token)."""
    min_token_weight: Annotated[float, Field(ge=0.0)] = 0.0
    """Weight of the gain in the minimum per-token log-prob (punishes one very unlikely token)."""
    clip: ClipRange = ClipRange()
    """Clip range of the alignment term, so one outlier cannot dominate a group."""
    penalties: Penalties = Penalties()
    """Anti-cheating penalties."""


class Learn(SpecModel):
    """GRPO training of the mapper against the frozen target."""

    steps: Annotated[int, Field(ge=1, le=1_000_000)] = 200
    """Optimizer steps."""
    batch_size: Annotated[int, Field(ge=1, le=4096)] = 8
    """Demonstrations per step."""
    group_size: Annotated[int, Field(ge=2, le=MAX_SAMPLES_PER_PROMPT)] = 8
    """Rewrites sampled per demonstration (G); advantages are normalised within a group."""
    learning_rate: Annotated[float, Field(gt=0.0, le=1.0)] = 1e-4
    """Peak learning rate."""
    kl_coef: Annotated[float, Field(ge=0.0)] = 0.0
    """Weight of the KL penalty to the initial mapper (0 disables it)."""
    clip_ratio: Annotated[float, Field(gt=0.0, le=1.0)] = 0.2
    """PPO-style clip on the policy ratio."""
    updates_per_batch: Annotated[int, Field(ge=1, le=64)] = 1
    """Optimizer updates on each batch of rollouts (GRPO's mu, TRL's `num_iterations`):
    more learning per rollout, which is most of a step's time; the clip keeps the later
    updates near the policy that sampled."""
    temperature: Annotated[float, Field(gt=0.0, le=2.0)] = 1.0
    """Sampling temperature for rollouts (diversity is what gives GRPO a signal)."""
    top_p: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    """Nucleus sampling cut-off for rollouts."""
    max_new_tokens: NewTokens = 256
    """Longest rewrite sampled."""
    reward: Reward = Reward()
    """Reward definition."""
    publish_every: Annotated[int, Field(ge=1)] = 10
    """Publish mapper weights to the generator every N steps."""
    checkpoint_every: Annotated[int, Field(ge=1)] = 50
    """Write a resumable checkpoint every M steps."""
    max_staleness: Annotated[int, Field(ge=0, le=4)] = 1
    """How many published weights versions a rollout may lag behind the learner. 0: the
    synchronous loop (sample, score, update, one after the other). N >= 1 (default 1, which
    learns each shipped target's style on the science test, BENCHMARKS.md): the generator
    samples the next N steps' rollouts while the learner updates,
    with the weights it has; the loss corrects for the lag with a clipped importance ratio
    against the generator's log-probs, and a rollout older than N versions is resampled,
    never trained on. A checkpoint step also publishes and discards the rollouts in
    flight, so a resumed run repeats the uninterrupted one exactly."""
    zero_stage: Literal[0, 1, 2, 3] = 0
    """DeepSpeed ZeRO stage."""
    precision: Literal["auto", "bf16", "fp32"] = "auto"
    """`auto` is bf16 on GPU and fp32 on CPU."""
    seed: Seed = 0
    """Seed for data order and sampling."""

    cel_rules = (_not_above("publishEvery", "steps"), _not_above("checkpointEvery", "steps"))


class Synthesize(SpecModel):
    """Rewrite every demonstration with the trained mapper."""

    samples_per_item: Annotated[int, Field(ge=1, le=MAX_SAMPLES_PER_PROMPT)] = 4
    """Rewrites sampled per demonstration (k); the best one passing every gate is kept."""
    fallback: Literal["keep-original", "drop"] = "keep-original"
    """What to do when no rewrite passes: keep the expert solution, or drop the item."""
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.7
    """Sampling temperature."""
    shards: Annotated[int, Field(ge=1, le=10_000)] = 1
    """Number of shards (Kubernetes Indexed Job completions)."""
    parallelism: Annotated[int, Field(ge=1, le=10_000)] = 1
    """Shards processed at once."""

    cel_rules = (_not_above("parallelism", "shards"),)


class Sft(SpecModel):
    """Supervised fine-tuning of the target on the adapted data."""

    epochs: Annotated[float, Field(gt=0.0, le=100.0)] = 1.0
    """Passes over the data."""
    learning_rate: Annotated[float, Field(gt=0.0, le=1.0)] = 1e-4
    """Peak learning rate."""
    batch_size: Annotated[int, Field(ge=1, le=4096)] = 16
    """Sequences per optimizer step."""
    max_seq_length: Annotated[int, Field(ge=16, le=131072)] = 1024
    """Longer examples are truncated."""
    training: Literal["lora", "full"] = "full"
    """Fine-tune all weights or a LoRA adapter."""
    lora: LoraSettings = LoraSettings()
    """Adapter settings when `training` is `lora`."""
    seed: Seed = 0
    """Seed for data order and initialisation of adapters; seed i of `evaluate.seeds` trains
    with seed + i."""


class EvalSet(SpecModel):
    """One evaluation set: a named split of the dataset's generator, or a file."""

    name: DnsLabel
    """Name shown in the report."""
    split: str | None = None
    """Generator split (`in-domain`, `retention`, `ood` for the synthetic task)."""
    file: FileSource | None = None
    """A file of held-out problems (same field mapping as the dataset)."""

    cel_rules = (_exactly_one_of("split", "file"),)


_DEFAULT_EVAL_SPLITS = ("in-domain", "retention", "ood")


def _default_eval_sets() -> list[EvalSet]:
    return [EvalSet(name=s, split=s) for s in _DEFAULT_EVAL_SPLITS]


class Evaluate(SpecModel):
    """Accuracy of the base target and of every arm's model with the same verifier."""

    sets: Annotated[list[EvalSet], Field(min_length=1, max_length=32)] = Field(
        default_factory=_default_eval_sets,
        # A factory has no default in JSON Schema; state it so the CRD defaults it too.
        json_schema_extra={"default": [{"name": s, "split": s} for s in _DEFAULT_EVAL_SPLITS]},
    )
    """Evaluation sets."""
    max_new_tokens: Annotated[int, Field(ge=1, le=32768)] = 256
    """Longest generated solution."""
    batch_size: Annotated[int, Field(ge=1, le=4096)] = 32
    """Problems generated at once."""
    seeds: Annotated[int, Field(ge=1, le=32)] = 1
    """Fine-tune every SFT arm this many times (seeds sft.seed + i) and report the mean and
    spread of each arm's accuracy per set."""
    curve_points: Annotated[int, Field(ge=0, le=16)] = 2
    """Intermediate checkpoints of each SFT arm's first seed, evenly spaced in its training,
    evaluated for the accuracy-against-steps and against-tokens curves (0: final model only)."""

    cel_rules = (
        CelRule(
            rule="self.sets.all(s, self.sets.exists_one(t, t.name == s.name))",
            message_expression="'evaluation set names must be unique'",
            field_path=".sets",
        ),
    )


ComparisonArm = Literal["sft-original", "direct-rl", "sft-oracle"]
Ablation = Annotated[str, Field(pattern=ABLATION_PATTERN)]


class Compare(SpecModel):
    """What DART is measured against. The `dart` arm always runs; each entry here is one more
    arm, trained with the same SFT settings and seeds (RL arms with the mapper's RL budget).
    `dart run` and the operator run the same plan (dart.plan): every arm and ablation."""

    arms: Annotated[list[ComparisonArm], Field(max_length=3)] = ["sft-original"]
    """`sft-original`: SFT on the demonstrations as given. `direct-rl`: GRPO on the target
    itself with the verifier's correctness reward, learn.steps x batchSize x groupSize
    rollouts like the mapper. `sft-oracle` (synthetic task only): SFT on the same problems
    written in the target's native style, the upper bound of any rewriting."""
    ablations: Annotated[list[Ablation], Field(max_length=8)] = []
    """`no-rl`: synthesize with the untrained mapper. `grape`: keep the most target-likely of
    the original and k untrained rewrites that keep the answer, k = synthesize.samplesPerItem;
    `grape-kN` (e.g. grape-k2, grape-k8, grape-k16): the same with k = N, so best-of-N can be
    compared with DART at several sample budgets (the report puts each arm beside the tokens
    its mapper generated). `no-penalties`: learn again with every anti-cheating penalty off,
    then synthesize and SFT (shows reward hacking)."""

    cel_rules = (
        CelRule(
            rule="self.arms.all(a, self.arms.exists_one(b, b == a)) && "
            "self.ablations.all(a, self.ablations.exists_one(b, b == a))",
            message_expression="'compare.arms and compare.ablations must not repeat an entry'",
        ),
    )


# ----------------------------------------------------------------------------- cluster


class ComponentResources(SpecModel):
    """What one component's pods get."""

    image: str | None = None
    """Container image; empty uses the operator's default for the component."""
    gpus: Annotated[int, Field(ge=0, le=64)] = 0
    """GPUs per pod (the node pool names the resource, e.g. nvidia.com/gpu)."""
    cpu: Quantity = "1"
    """CPU request."""
    memory: Quantity = "4Gi"
    """Memory request (and limit)."""
    node_pool: DnsLabel | None = None
    """Node pool from the operator's Helm values (nodeSelector, tolerations, GPU resource)."""
    nodes: Annotated[int, Field(ge=1, le=1024)] = 1
    """Pods for a multi-node Job (learner, sft); servers use replicas instead."""
    replicas: Annotated[int, Field(ge=1, le=1024)] = 1
    """Replicas of an inference server."""


class Resources(SpecModel):
    """Per-component resources. Defaults fit the CPU quickstart."""

    generator: ComponentResources = ComponentResources()
    """Mapper inference server."""
    scorer: ComponentResources = ComponentResources()
    """Target scoring server."""
    learner: ComponentResources = ComponentResources()
    """RL learner Job."""
    synthesize: ComponentResources = ComponentResources()
    """Synthesis Job (per shard)."""
    sft: ComponentResources = ComponentResources()
    """SFT Job."""
    evaluate: ComponentResources = ComponentResources()
    """Evaluation Job."""


class Artifacts(SpecModel):
    """Where every stage reads and writes its outputs (a PVC in a cluster)."""

    existing_claim: DnsLabel | None = None
    """Use this PersistentVolumeClaim instead of creating one."""
    size: Quantity = "20Gi"
    """Size of the PVC the operator creates."""
    storage_class_name: str | None = None
    """StorageClass of the created PVC; empty uses the cluster default."""


class Export(SpecModel):
    """Copies of the run's products, pushed by the report unit. To a bucket: the adapted
    dataset with its card under PREFIX/dataset/, the DART arm's fine-tuned target (seed 0)
    with its model card under PREFIX/model/, the report under PREFIX/report/, and
    PREFIX/manifest.json last (a prefix without it is an unfinished export). To the hub
    (`hf://ORG/NAME`): the dataset to the dataset repo ORG/NAME, then one commit to the model
    repo ORG/NAME with the model at its root, the report under report/ and manifest.json;
    repos that do not exist yet are created private."""

    uri: Annotated[str, Field(pattern=EXPORT_URI_PATTERN)]
    """`s3://BUCKET/PREFIX` or `gs://BUCKET/PREFIX` (credentials as for object-store data),
    or `hf://ORG/NAME` (a token with write access from HF_TOKEN)."""
    token_secret: SecretKeyRef | None = None
    """Secret with a hub token that may write to ORG, for `hf://` exports only; default the
    target's `tokenSecret`."""

    cel_rules = (
        CelRule(
            rule="!has(self.tokenSecret) || self.uri.startsWith('hf://')",
            message_expression="'tokenSecret is only used with hf:// exports, not ' + self.uri",
            field_path=".tokenSecret",
        ),
    )


class MlflowTracking(SpecModel):
    """Where MLflow records the run (`tracking.backend: mlflow`)."""

    tracking_uri: Annotated[str, Field(pattern=MLFLOW_URI_PATTERN)] | None = None
    """An MLflow server (`https://mlflow.example.com`), `databricks`, or a local folder for a
    file store; default MLFLOW_TRACKING_URI, else a file store in ARTIFACTS/tracking/mlruns.
    Credentials from the standard variables (MLFLOW_TRACKING_TOKEN, or _USERNAME and
    _PASSWORD)."""
    experiment: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    """MLflow experiment; default the run's name."""


class WandbTracking(SpecModel):
    """Where Weights & Biases records the run (`tracking.backend: wandb`)."""

    project: Annotated[str, Field(min_length=1, max_length=128)] = "dart"
    """W&B project."""
    entity: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    """W&B team or user; default the API key's."""
    mode: Literal["online", "offline"] = "online"
    """`online` streams to W&B (key from WANDB_API_KEY); `offline` writes run files under
    the log folder for a later `wandb sync`."""


class Tracking(SpecModel):
    """An experiment tracker that sees the run: each unit (learn, every SFT arm and seed,
    evaluate) is one tracker run, grouped under the DartRun's name. It gets the learner's
    per-step statistics (reward, its components, answer preservation, style share, KL, ...),
    every SFT logging step (loss, learning rate, ...) and the final accuracies."""

    backend: Literal["tensorboard", "mlflow", "wandb"]
    """`tensorboard` (event files), `mlflow` or `wandb`; `pip install 'dart-adapt[tracking]'`."""
    log_dir: Annotated[str, Field(min_length=1)] | None = None
    """Local folder for TensorBoard event files and W&B's run files; default
    ARTIFACTS/tracking."""
    secret: DnsLabel | None = None
    """In a cluster: a Secret whose keys WANDB_API_KEY, MLFLOW_TRACKING_URI,
    MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (those it
    has) become the workloads' environment variables of those names, by reference."""
    mlflow: MlflowTracking = MlflowTracking()
    """MLflow options."""
    wandb: WandbTracking = WandbTracking()
    """W&B options."""


class DartRunSpec(SpecModel):
    """Everything a DART run needs: models, data, the four stages and where they run."""

    models: Models
    """Target and mapper models."""
    dataset: Dataset
    """The SFT data to adapt."""
    verifier: Verifier = Verifier()
    """Answer extraction and checking."""
    learn: Learn = Learn()
    """Stage 1: RL training of the mapper."""
    synthesize: Synthesize = Synthesize()
    """Stage 2: adapted dataset."""
    sft: Sft = Sft()
    """Stage 3: fine-tune the target."""
    evaluate: Evaluate = Evaluate()
    """Stage 4: evaluation and report."""
    compare: Compare = Compare()
    """Comparison arms and ablations beside the `dart` arm."""
    resources: Resources = Resources()
    """Pods per component."""
    artifacts: Artifacts = Artifacts()
    """Artifacts volume."""
    export: Export | None = None
    """Push the adapted dataset, the fine-tuned target and the report to a bucket or the hub
    at the end."""
    tracking: Tracking | None = None
    """Send the run's figures to an experiment tracker; none by default."""
    image_pull_secrets: Annotated[list[DnsLabel], Field(max_length=16)] = []
    """Secrets for pulling images, added to every pod of the run."""
    suspend: bool = False
    """Pause the run: running pods are deleted, artifacts kept; false resumes where it stopped."""
    backoff_limit: Annotated[int, Field(ge=0, le=100)] = 3
    """Retries per Job before the run fails."""
    active_deadline_seconds: Annotated[int, Field(ge=1)] | None = None
    """Fail the run after this many seconds."""
    ttl_seconds_after_finished: Annotated[int, Field(ge=0)] | None = None
    """Delete the finished run's children after this many seconds."""
    queue_name: DnsLabel | None = None
    """Kueue LocalQueue; Jobs get the queue label and start suspended until admitted."""

    cel_rules = (
        CelRule(
            rule="!has(self.compare) || !self.compare.arms.exists(a, a == 'sft-oracle') || "
            "has(self.dataset.synthetic)",
            message_expression="\"compare.arms: sft-oracle needs dataset.synthetic, the only "
            "source that can write the same problems in the target's native style\"",
            field_path=".compare.arms",
        ),
        # An evaluation split the dataset cannot generate would fail only after learn,
        # synthesize and sft have run: refuse it with the rest of the spec.
        CelRule(
            rule="!has(self.dataset.synthetic) || self.evaluate.sets.all(s, !has(s.split) || "
            "s.split in " + "[" + ", ".join(f"'{x}'" for x in _DEFAULT_EVAL_SPLITS) + "])",
            message_expression="'evaluate.sets: a split of the synthetic task is one of: "
            + ", ".join(_DEFAULT_EVAL_SPLITS) + "'",
            field_path=".evaluate.sets",
        ),
        CelRule(
            rule="!has(self.dataset.file) || self.evaluate.sets.all(s, !has(s.split))",
            message_expression="'evaluate.sets: the dataset is a file, so there is no generator "
            "to draw a split from; give each evaluation set a file'",
            field_path=".evaluate.sets",
        ),
    )


class ObjectMeta(SpecModel):
    """The part of Kubernetes metadata DART reads; server-filled fields are accepted and kept."""

    model_config = SpecModel.model_config | {"extra": "allow"}

    name: Annotated[str, Field(pattern=RUN_NAME_PATTERN, max_length=MAX_RUN_NAME)]
    """Run name; children (Services too) are named after it: a DNS-1035 label of at most 40
    characters."""
    namespace: DnsLabel | None = None
    """Namespace in a cluster; ignored by `dart run`."""
    labels: dict[str, str] = {}
    """Labels."""
    annotations: dict[str, str] = {}
    """Annotations."""


class DartRun(SpecModel):
    """A DartRun document as written in YAML."""

    api_version: Literal["dart.ai/v1alpha1"] = Field(alias="apiVersion")
    """Always `dart.ai/v1alpha1`."""
    kind: Literal["DartRun"]
    """Always `DartRun`."""
    metadata: ObjectMeta
    """Name and labels."""
    spec: DartRunSpec
    """The run."""
    status: dict | None = Field(default=None, exclude=True)
    """Written by the operator; ignored when read back from a cluster."""
