"""The run report: results table, curves, accuracy bars, example rewrites."""
