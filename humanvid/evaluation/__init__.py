"""Accuracy metrics and the `humanvid evaluate` command."""
