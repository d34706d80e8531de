"""Rich progress bars for long work: frames/s and the time left."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text


class RichProgress:
    """Progress of one input's stage as a rich bar with frames/s and ETA."""

    def __init__(self, progress: Progress | None, console: Console, label: str):
        self.progress, self.console, self.label = progress, console, label
        self.task = None

    def start(self, phase: str, total: int) -> None:
        if self.progress is None:
            return
        description = f"{self.label} · {phase}"
        if self.task is None:
            self.task = self.progress.add_task(description, total=max(total, 1))
        else:
            self.progress.reset(self.task, total=max(total, 1), description=description)

    def advance(self, count: int = 1) -> None:
        if self.progress is not None and self.task is not None and count:
            self.progress.advance(self.task, count)

    def warn(self, message: str) -> None:
        self.console.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)

    def finish(self) -> None:
        if self.progress is not None and self.task is not None:
            task = self.progress.tasks[self.task]
            self.progress.update(self.task, completed=task.total)


def _rate(task) -> str:
    speed = task.finished_speed or task.speed
    return f"{speed:5.1f} frames/s" if speed else "    … frames/s"


class RateColumn(TextColumn):
    def __init__(self):
        super().__init__("")

    def render(self, task):
        return Text(_rate(task), style="cyan")


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
        TextColumn("ETA"), TimeRemainingColumn(), TimeElapsedColumn(),
        console=console, transient=False,
    )
