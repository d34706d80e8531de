"""Helpers for the tests: where the real media is, and running the CLI as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"


def real_media(name: str) -> Path:
    path = REAL / name
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read the real clips from ../shared/data/real/")
    return path


def run_cli(*args: str, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    """Run `python -m humanvid ARGS` as a user would, capturing its output."""
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "humanvid", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=kwargs.pop("cwd", REPO), **kwargs)
