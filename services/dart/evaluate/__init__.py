"""Stage 4: accuracy of the base, baseline-SFT and DART targets with the same verifier."""
