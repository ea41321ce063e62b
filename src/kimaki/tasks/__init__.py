"""Scheduled sends: when they fire (`schedule`), the clock, `--pre-run`, the scheduler."""
