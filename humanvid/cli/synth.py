"""`humanvid synth` (deterministic splits of synthetic clothed people) and `humanvid synth-sheet` (a contact sheet).

    humanvid synth --split test --count 8 -o data            data/test/000000 … 000007
    humanvid synth --split train --count 1000 --start 1000 -o data --workers 2
    humanvid synth --split test --count 4 --clips -o data    data/test-clips/000000 … (48 frames each)
    humanvid synth --split loose-test --count 40 -o data     loose clothes: data/loose-test/000000 …
    humanvid synth --split turn-test --count 8 --clips -o data   turning and steady clips: data/turn-test-clips/…
    humanvid synth-sheet data/test -o sheet.png
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import click

from humanvid.synth.batch import Outcome, RunFigures, finished_summary, plan_jobs, run_jobs
from humanvid.synth.splits import SPLITS, seed_block


def _check_writable(folder: Path) -> str | None:
    """None if files can be written in ``folder`` (made if missing), else the reason."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe."):
            pass
    except OSError as err:
        return err.strerror or str(err)
    return None


def _fail(message: str, code: int = 1):
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.command("synth")
@click.option("--split", type=click.Choice(SPLITS), required=True,
              help="Which split: its seeds never overlap another's. loose-*: clothes that drape away from the body; "
                   "turn-* (clips only): people turning, and people who do not.")
@click.option("--count", type=click.IntRange(min=1), required=True, help="How many samples (or clips).")
@click.option("--start", type=click.IntRange(min=0), default=0, show_default=True,
              help="Index of the first sample within the split.")
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), required=True,
              help="Output folder; samples go to OUT/<split>/NNNNNN/, clips to OUT/<split>-clips/NNNNNN/.")
@click.option("--clips", is_flag=True, help="Make animated clips (one person, one static camera) instead of stills.")
@click.option("--frames", type=click.IntRange(min=2), default=48, show_default=True, help="Frames per clip.")
@click.option("--workers", type=click.IntRange(min=1, max=64), default=2, show_default=True,
              help="Worker processes (each loads the body model once).")
@click.option("--no-crop", is_flag=True, help="Skip MediaPipe and the training crop (renders and ground truth only).")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def synth_command(split, count, start, output, clips, frames, workers, no_crop, quiet):
    """Make synthetic clothed people of a split, deterministically from the split's seeds.

    The same command writes byte-identical renders and ground truth on any
    machine; a rerun skips finished samples. See humanvid/synth/splits.py.
    """
    from rich.console import Console

    try:
        block = seed_block(split, clips)
    except ValueError as err:
        raise click.BadParameter(f"{err} (add --clips)" if not clips else str(err), param_hint="--split") from None
    if start + count > block.capacity:
        raise click.BadParameter(f"--start {start} + --count {count} goes past the {block.capacity:,} "
                                 f"{block.kind} of the {split} split", param_hint="--count")
    jobs = plan_jobs(output, split, count, start, clips, frames)
    folder = jobs[0].folder.parent
    reason = _check_writable(folder)
    if reason is not None:
        _fail(f"cannot write to output folder {folder}: {reason}")

    console = Console(quiet=quiet, highlight=False, stderr=False)
    figures = RunFigures(split, block.kind, count)
    cpu: list[float] = []
    todo = []
    for job in jobs:
        summary = finished_summary(job)
        if summary is None:
            todo.append(job)
        else:
            figures.add(Outcome(job.index, summary, resumed=True), cpu)
    if figures.resumed:
        console.print(f"{figures.resumed} of {count} {block.kind} already finished in {folder}: skipped")
    started = time.perf_counter()
    try:
        _make_with_progress(todo, workers, not no_crop, console, figures, cpu, f"{split} {block.kind}")
    except KeyboardInterrupt:
        _fail("interrupted; rerun the same command to resume", 130)
    except RuntimeError as err:
        _fail(str(err))
    figures.seconds = round(time.perf_counter() - started, 2)
    figures.cpu_seconds_per_sample = round(sum(cpu) / len(cpu), 3) if cpu else None
    _report(figures, folder, console)
    sys.exit(0 if figures.failed == 0 else 1)


def _make_with_progress(todo, workers, crop, console, figures, cpu, label) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    if not todo:
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("[cyan]{task.fields[rate]}"), TextColumn("ETA"), TimeRemainingColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(label, total=len(todo), rate="… samples/s")
        started = time.perf_counter()

        def on_outcome(outcome: Outcome) -> None:
            figures.add(outcome, cpu)
            if outcome.error is not None:
                progress.console.print(f"[red]error:[/] sample {outcome.index:06d}: {outcome.error}",
                                       highlight=False, soft_wrap=True)
            done = progress.tasks[task].completed + 1
            progress.update(task, advance=1, rate=f"{done / (time.perf_counter() - started):.2f} samples/s")

        run_jobs(todo, workers, crop, on_outcome)


def _report(figures: RunFigures, folder: Path, console) -> None:
    from humanvid import atomic

    def rate(part: int, whole: int) -> str:
        return f"{100.0 * part / whole:.1f} % ({part}/{whole})" if whole else "–"

    finished = figures.finished
    cpu = f"{figures.cpu_seconds_per_sample:.2f} CPU s/sample" if figures.cpu_seconds_per_sample else "–"
    lines = [
        f"{figures.kind} written: {figures.written}, already there: {figures.resumed}, failed: {figures.failed}",
        f"MediaPipe detection: {rate(figures.detected, figures.detection_checked)}",
        f"watertight: {rate(figures.watertight, finished)}; body inside clothing: {rate(figures.body_inside, finished)}",
        f"seconds: {figures.seconds:.1f} ({figures.seconds / max(figures.written, 1):.2f} s/sample wall, {cpu})",
    ]
    console.print("\n".join(lines), soft_wrap=True)
    try:
        atomic.write_json(folder / "synth_run.json", asdict(figures))
    except OSError:
        pass


@click.command("synth-sheet")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), default=Path("sheet.png"),
              show_default=True, help="PNG to write.")
@click.option("--count", type=click.IntRange(min=1, max=200), default=24, show_default=True, help="Samples on the sheet.")
@click.option("--seed", type=int, default=0, show_default=True, help="Which samples are drawn.")
@click.option("--tile", type=click.IntRange(min=48, max=1024), default=160, show_default=True,
              help="Side of each image [px].")
@click.option("--columns", type=click.IntRange(min=1), default=6, show_default=True, help="Samples per row.")
@click.option("--colors", type=click.IntRange(min=0, max=256), default=0, show_default=True,
              help="Quantise to this many colours for a smaller file (0: full colour).")
def sheet_command(folder, output, count, seed, tile, columns, colors):
    """A contact sheet of samples found under FOLDER: each render beside its ground-truth mesh."""
    from humanvid.synth.sheet import contact_sheet, find_samples, pick_samples, sample_tile, write_sheet

    folders = find_samples(folder)
    if not folders:
        _fail(f"no finished samples (render.png + mesh.npz + sample.json) under {folder}")
    chosen = pick_samples(folders, count, seed)
    tiles = [sample_tile(path, tile) for path in chosen]
    try:
        write_sheet(output, contact_sheet(tiles, min(columns, len(tiles))), colors)
    except OSError as err:
        _fail(f"cannot write {output}: {err.strerror or err}")
    click.echo(f"{output}: {len(tiles)} samples of {len(folders)} found")
