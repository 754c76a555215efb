"""Stage 4: accuracy of the base target and of every arm's models with the same verifier."""
