"""The tiny model loads like a real checkpoint, chats with the template and sees every digit."""

from __future__ import annotations

import json
import time

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from dart.models.tiny import build_tiny_model
from dart.prompts import mapper_prompt, target_prompt, target_prompt_and_completion


def test_build_is_fast_and_small(tmp_path):
    started = time.perf_counter()
    path = build_tiny_model(tmp_path / "m")
    elapsed = time.perf_counter() - started
    print(f"tiny model built in {elapsed:.2f} s")
    assert elapsed < 4.0  # ~0.7 s measured; headroom for a machine shared with other jobs
    model = AutoModelForCausalLM.from_pretrained(path)
    parameters = sum(p.numel() for p in model.parameters())
    assert 0.5e6 < parameters < 2e6
    assert not list(tmp_path.glob(".m.*")), "the staging folder must be renamed away"


def test_reloads_with_auto_classes(tiny_target):
    tokenizer = AutoTokenizer.from_pretrained(tiny_target)
    model = AutoModelForCausalLM.from_pretrained(tiny_target)
    assert model.config.model_type == "llama"
    assert model.config.vocab_size == len(tokenizer)
    assert model.generation_config.eos_token_id == tokenizer.convert_tokens_to_ids("<|im_end|>")
    ids = tokenizer(target_prompt(tokenizer, "Compute 1 + 2."), return_tensors="pt").input_ids
    out = model.generate(ids, max_new_tokens=5, do_sample=False)
    assert out.shape[1] > ids.shape[1]


@pytest.mark.parametrize("number", ["0", "7", "42", "1234567890", "999"])
def test_digits_are_one_token_each(tiny_target, number):
    tokenizer = AutoTokenizer.from_pretrained(tiny_target)
    ids = tokenizer(f"x={number}", add_special_tokens=False).input_ids
    digit_tokens = [tokenizer.decode([i]) for i in ids][-len(number):]
    assert digit_tokens == list(number)


def test_text_round_trips(tiny_target):
    tokenizer = AutoTokenizer.from_pretrained(tiny_target)
    text = "Émile's total: 12.5 × 3 = 37.5 — \\boxed{37.5}\n  indented\ttab"
    ids = tokenizer(text, add_special_tokens=False).input_ids
    assert tokenizer.decode(ids) == text


def test_chat_template_round_trip(tiny_target):
    tokenizer = AutoTokenizer.from_pretrained(tiny_target)
    prompt, completion = target_prompt_and_completion(tokenizer, "Compute 3 + 4.", "3+4+0=7 c0")
    assert prompt == "<|im_start|>user\nCompute 3 + 4.<|im_end|>\n<|im_start|>assistant\n"
    assert completion == "3+4+0=7 c0<|im_end|>"
    ids = tokenizer(prompt + completion, add_special_tokens=False).input_ids
    assert ids[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ids) == prompt + completion
    assert mapper_prompt(tokenizer, "Q?", "S.").startswith("<|im_start|>system\n")


def test_assistant_mask_marks_only_the_reply(tiny_target):
    tokenizer = AutoTokenizer.from_pretrained(tiny_target)
    messages = [{"role": "user", "content": "Compute 3 + 4."},
                {"role": "assistant", "content": "Answer: 7"}]
    encoded = tokenizer.apply_chat_template(
        messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    reply = [i for i, m in zip(encoded["input_ids"], encoded["assistant_masks"], strict=True) if m]
    assert tokenizer.decode(reply) == "Answer: 7<|im_end|>"


def test_lora_default_targets_attach(tiny_target):
    from peft import LoraConfig, get_peft_model

    model = AutoModelForCausalLM.from_pretrained(tiny_target)
    lora = LoraConfig(r=4, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
    peft_model = get_peft_model(model, lora)
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    assert 0 < trainable < 0.1 * sum(p.numel() for p in peft_model.parameters())


def test_same_seed_same_model(tmp_path, tiny_target):
    again = build_tiny_model(tmp_path / "again", seed=0)
    other = build_tiny_model(tmp_path / "other", seed=1)
    load = AutoModelForCausalLM.from_pretrained
    first, second, third = load(tiny_target), load(again), load(other)
    weight = "model.layers.0.self_attn.q_proj.weight"
    assert torch.equal(first.state_dict()[weight], second.state_dict()[weight])
    assert not torch.equal(first.state_dict()[weight], third.state_dict()[weight])
    vocab = [json.loads((p / "tokenizer.json").read_text())["model"]["vocab"]
             for p in (tiny_target, again)]
    assert vocab[0] == vocab[1]


def test_the_tokenizer_is_the_shipped_models_and_serves_every_style_compactly(tiny_target):
    """The vocabulary is learnt from a fixed set of styles, so adding a style to the task
    does not silently change the tokenizer the shipped models were trained with; the
    repertoire's words are the expert's, so no member costs many more tokens than native."""
    from dart.data.synthetic import generate_split
    from dart.data.synthetic.repertoire import REPERTOIRE
    from dart.models.shipped import SHIPPED_DIR

    built = (tiny_target / "tokenizer.json").read_text()
    for name in ("target", "mapper"):
        assert built == (SHIPPED_DIR / name / "tokenizer.json").read_text()
    tokenizer = AutoTokenizer.from_pretrained(tiny_target)

    def tokens(style: str) -> int:
        rows = generate_split("train", seed=0, size=20, style=style)
        return sum(len(tokenizer(r["solution"]).input_ids) for r in rows)

    native = tokens("native")
    for style in REPERTOIRE:
        assert native <= tokens(style) < 1.3 * native, style
