"""What the install commands share: run an installer, then one line saying where, or one error line and exit 1."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from humanvid.errors import HumanvidError


def install_or_exit(install: Callable[[Path], Path], source: Path, what: str) -> None:
    """Run `install(source)`; print "installed WHAT in PATH", or the error on stderr and exit with status 1."""
    try:
        target = install(source)
    except HumanvidError as err:
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"[red]error:[/] {err}")
        sys.exit(1)
    Console(highlight=False, soft_wrap=True).print(f"installed {what} in {target}")
