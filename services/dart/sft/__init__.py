"""Stage 3: supervised fine-tuning of the target on the adapted (and the original) data."""
