"""Stage 2: rewrite every demonstration with the trained mapper into the adapted dataset."""
