"""The tiny models' tokenizer: byte-level BPE with one token per digit and a chat template.

One token per digit keeps column arithmetic learnable by a 1M-parameter model (a merged "47"
would hide the digits it has to add). Byte-level BPE means any text still encodes, so real
data (reasoning-gym, user files) can be scored by the tiny models too, just less compactly.
The vocabulary is learned from the synthetic task in every style plus the prompt strings, so
both the native and the expert styles are tokenised compactly and no style wins by tokens.
"""

from __future__ import annotations

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from dart.data.synthetic import generate_split
from dart.prompts import MAPPER_INSTRUCTION

PAD, TURN_START, TURN_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
VOCAB_SIZE = 512
MODEL_MAX_LENGTH = 1024

# ChatML-like. The assistant turn ends right after its end-of-turn token so that a scored
# completion ends with the token that stops generation; `{% generation %}` marks the
# assistant tokens for transformers' assistant masks (TRL's assistant-only loss).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "<|im_start|>assistant\n{% generation %}{{ message['content'] }}<|im_end|>{% endgeneration %}"
    "{% else %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def train_tokenizer() -> PreTrainedTokenizerFast:
    """Train the BPE vocabulary on the task's text and wrap it as a transformers tokenizer."""
    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE, special_tokens=[PAD, TURN_START, TURN_END],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    bpe.train_from_iterator(_corpus(), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token=TURN_END, pad_token=PAD,
        chat_template=CHAT_TEMPLATE, model_max_length=MODEL_MAX_LENGTH,
    )


CORPUS_STYLES = ("native", "expert", "expert-short")
"""The styles the vocabulary is learnt from. The rest of the repertoire is made of their
words (plus, minus, carry, borrow, \\boxed), so it tokenises as compactly; keeping the
corpus fixed keeps the shipped target's tokenizer, and so the target, as they were built."""


def _corpus() -> list[str]:
    texts = [MAPPER_INSTRUCTION, "Question:\nSolution:\n", "system user assistant"]
    for split in ("pretrain", "train", "ood"):
        for style in CORPUS_STYLES:
            rows = generate_split(split, seed=0, size=100, style=style)
            texts += [row["question"] + "\n" + row["solution"] for row in rows]
    return texts
