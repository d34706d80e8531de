"""The `humanvid` command line: one module per command (main.py gathers them)."""
