"""Helpers for the tests: where the real media is, and running the CLI as a user would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"
VALIDATE_SCRIPT = REPO / "tests" / "tools" / "validate_gltf.mjs"
INSTALL = "npm install --prefix .tools --no-save gltf-validator@2.0.0-dev.3.10"


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


def validation_report(path: Path) -> dict:
    """The Khronos glTF validator's JSON report on `path` (the test fails if the validator cannot run)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"node (Node.js) is not on PATH; install it, then at the repository root run: {INSTALL}")
    result = subprocess.run([node, str(VALIDATE_SCRIPT), str(path)], capture_output=True, text=True, timeout=60,
                            check=False)
    if result.returncode != 0:
        pytest.fail(f"the glTF validator did not run (is it installed? {INSTALL}):\n{result.stderr}")
    return json.loads(result.stdout)
