"""How a stage reports progress to whatever shows it (a rich bar in the CLI, nothing in a library call)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """What the stage tells the user interface about its progress."""

    def start(self, phase: str, total: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...

    def warn(self, message: str) -> None: ...


class SilentProgress:
    def start(self, phase: str, total: int) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass

    def warn(self, message: str) -> None:
        pass
