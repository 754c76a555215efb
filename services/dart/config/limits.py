"""The limits both sides of the wire agree on: the spec refuses what the servers would refuse.

`dart validate` checks a DartRun against these numbers and `dart serve` takes them as the
defaults of its limit flags, so a run that validates never meets a server that refuses its
requests mid-run (after the servers and DeepSpeed are up).
"""

MAX_SAMPLES_PER_PROMPT = 16
"""Completions one Generate request may ask per prompt (n): learn.groupSize and
synthesize.samplesPerItem are sent as n."""
MAX_NEW_TOKENS = 1024
"""Longest generation a server accepts (max_tokens): learn.maxNewTokens and
evaluate.maxNewTokens; a model's context may lower it further (checked against local models)."""
MAX_INPUT_TOKENS = 2048
"""Longest prompt, or prompt + completion when scoring, in tokens."""
MAX_ITEMS_PER_REQUEST = 256
"""Prompts or score pairs in one request; the Python client chunks to this."""
MAX_PROMPT_CHARS = 64 * MAX_INPUT_TOKENS
"""Longest prompt or completion in characters, checked before tokenization: no tokenizer
makes fewer tokens than characters / 64, so longer text is over the token limit anyway."""
MAX_REQUEST_BYTES = 16 * 1024 * 1024
"""Largest request message; the client chunks well below this."""
MAX_SEED = 2**31 - 1
"""Largest seed: stages derive seeds by addition (sft.seed + i, learn.seed * 1_000_003 +
step), and numpy and torch take seeds below 2**32; below 2**31 every derived seed fits."""
