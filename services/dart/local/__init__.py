"""Running DART on one machine: the inference servers as local child processes."""
