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
CHARS_PER_TOKEN_BOUND = 64
"""Text longer than max_input_tokens x this many characters is refused before tokenization:
no tokenizer DART serves makes a token of more than 64 characters, so such text is over the
token limit anyway, and tokenizing megabytes would block a server for seconds."""
MAX_REQUEST_BYTES = 64 * 1024 * 1024
"""Largest request message a server reads (gRPC answers RESOURCE_EXHAUSTED above it); a
full chunk of max-length prompts is far below it."""
MAX_SEED = 2**31 - 1
"""Largest seed: stages derive seeds by addition (sft.seed + i, learn.seed * 1_000_003 +
step), and numpy and torch take seeds below 2**32; below 2**31 every derived seed fits."""
