"""Progress of the ray engine's tasks, gathered in one place and shown by the driver as one rich bar.

Workers report through `BoardProgress` (humanvid's Progress protocol) to a `ProgressBoard`, which the driver
runs as a Ray actor (no CPU reserved); the driver reads `snapshot()` a few times a second. Nothing here imports
Ray: the actor's handle comes in from the driver.

Units are frames of work: each phase a task starts (a stage, or one chunk's mesh) adds its frame count to the
bar's total, and its advances to the bar's progress; a phase that ends early (a resumed stage) is counted as
done when the next phase starts or the task ends. A retried task starts its phases over, so the total grows.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class _Key:
    """One task's (or one input's) phases: what earlier phases counted, and the current one."""

    earlier: int = 0
    total: int = 0
    done: int = 0
    phase: str = ""
    ended: bool = False


@dataclass
class Snapshot:
    """What the bar shows: frames of work done and known, each running key's phase, every warning so far."""

    completed: int
    total: int
    phases: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class ProgressBoard:
    """Progress of every task of a run (a Ray actor in the ray engine; a plain object in tests)."""

    def __init__(self):
        self.keys: dict[str, _Key] = {}
        self.warnings: list[str] = []

    def start(self, key: str, phase: str, total: int) -> None:
        entry = self.keys.setdefault(key, _Key())
        entry.earlier += entry.total
        entry.total, entry.done, entry.phase, entry.ended = max(int(total), 1), 0, phase, False

    def advance(self, key: str, count: int = 1) -> None:
        entry = self.keys.setdefault(key, _Key())
        entry.done = min(entry.done + int(count), entry.total)

    def warn(self, key: str, message: str) -> None:
        if message not in self.warnings:  # the same warning from every input of a batch is shown once
            self.warnings.append(message)

    def end(self, key: str) -> None:
        """The key's task ended (however): its phases count as done."""
        entry = self.keys.setdefault(key, _Key())
        entry.done, entry.ended = entry.total, True

    def snapshot(self) -> Snapshot:
        completed = sum(k.earlier + (k.total if k.ended else k.done) for k in self.keys.values())
        total = sum(k.earlier + k.total for k in self.keys.values())
        phases = {name: k.phase for name, k in self.keys.items() if not k.ended and k.phase}
        return Snapshot(completed, total, phases, list(self.warnings))


class BoardProgress:
    """A task's Progress: each call goes to the board's actor without waiting for it (`handle.method.remote`)."""

    def __init__(self, board, key: str):
        self.board, self.key = board, key

    def start(self, phase: str, total: int) -> None:
        self.board.start.remote(self.key, phase, total)

    def advance(self, count: int = 1) -> None:
        if count:
            self.board.advance.remote(self.key, count)

    def warn(self, message: str) -> None:
        self.board.warn.remote(self.key, message)


def describe(snapshot: Snapshot, finished: int, inputs: int, width: int = 60) -> str:
    """The bar's label: inputs finished, then what the running tasks do (as much as fits in `width`)."""
    label = f"{finished}/{inputs} inputs"
    running = [f"{key} · {phase}" for key, phase in snapshot.phases.items()]
    shown = []
    for item in running:
        if len(label) + sum(len(s) + 2 for s in shown) + len(item) + 2 > width:
            shown.append(f"+{len(running) - len(shown)}")
            break
        shown.append(item)
    return label + (": " + ", ".join(shown) if shown else "")
