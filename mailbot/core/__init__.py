"""The booking rules: pure, no I/O."""
