"""Tiny models built offline: a tokenizer and Llama-style causal LMs saved like real ones."""
