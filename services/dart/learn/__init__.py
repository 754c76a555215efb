"""The learner: GRPO on the mapper (and on the target, for the direct-rl arm)."""
