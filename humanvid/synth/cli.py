"""`humanvid synth` (deterministic splits of synthetic clothed people) and `humanvid synth-sheet` (a contact sheet).

    humanvid synth --split test --count 8 -o data            data/test/000000 … 000007
    humanvid synth --split train --count 1000 --start 1000 -o data --workers 2
    humanvid synth --split test --count 4 --clips -o data    data/test-clips/000000 … (48 frames each)
    humanvid synth-sheet data/test -o sheet.png

Each sample folder is what ``humanvid.synth.dataset.generate_sample`` writes (its
``sample.json`` last); each clip folder what ``generate_clip`` writes (``clip.json``
last), so a rerun skips what is finished. ``DIR/<split>[-clips]/synth_run.json``
keeps the figures of the latest run.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click

from humanvid.synth.splits import SPLITS, folder_name, seed_block


@dataclass(frozen=True)
class Job:
    """One sample or clip to make: its index in the split, its seed and its folder."""

    index: int
    seed: int
    folder: Path
    frames: int = 1  # > 1: an animated clip


@dataclass
class Outcome:
    """What making (or finding) one sample gave."""

    index: int
    summary: dict | None = None
    error: str | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    resumed: bool = False


@dataclass
class RunFigures:
    """The summary of one `humanvid synth` run (written to synth_run.json)."""

    split: str
    kind: str
    requested: int
    written: int = 0
    resumed: int = 0
    failed: int = 0
    detected: int = 0
    detection_checked: int = 0
    watertight: int = 0
    body_inside: int = 0
    seconds: float = 0.0
    cpu_seconds_per_sample: float | None = None
    errors: list = field(default_factory=list)

    def add(self, outcome: Outcome, cpu: list[float]) -> None:
        if outcome.error is not None:
            self.failed += 1
            self.errors.append(f"{outcome.index:06d}: {outcome.error}")
            return
        summary = outcome.summary or {}
        self.resumed += outcome.resumed
        self.written += not outcome.resumed
        if not outcome.resumed:
            cpu.append(outcome.cpu_seconds)
        if summary.get("person_detected") is not None:
            self.detection_checked += 1
            self.detected += bool(summary["person_detected"])
        self.watertight += bool(summary.get("watertight"))
        outside = summary.get("body_outside", summary.get("body_outside_max", 1.0))
        self.body_inside += outside <= 0.01

    @property
    def finished(self) -> int:
        return self.written + self.resumed


def plan_jobs(out: Path, split: str, count: int, start: int, clips: bool, frames: int) -> list[Job]:
    """The jobs of samples ``start`` … ``start + count − 1`` of ``split`` under ``out``."""
    block = seed_block(split, clips)
    folder = out / (f"{split}-clips" if clips else split)
    return [Job(i, block.seed(i), folder / folder_name(i), frames if clips else 1) for i in range(start, start + count)]


def finished_summary(job: Job) -> dict | None:
    """The summary of a finished sample or clip folder, or None if it is missing or incomplete."""
    import json

    path = job.folder / ("clip.json" if job.frames > 1 else "sample.json")
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if summary.get("seed") != job.seed or summary.get("frames", 1) != job.frames:
        return None
    return summary


CLIP_CONTENTS = ("clip.json", "body.npz", "frames", "buffers", "meshes", "occupancy")


def clear_clip(folder: Path) -> None:
    """Remove what an unfinished or differently long clip left in ``folder`` (only the generator's own files)."""
    from humanvid.atomic import remove_entries

    remove_entries(folder, CLIP_CONTENTS)


def run_one(generator, job: Job, crop: bool = True) -> Outcome:
    """Make one job's sample or clip with a loaded ``Generator``; errors are returned, not raised."""
    from humanvid import atomic
    from humanvid.synth.dataset import SampleSettings, generate_clip, generate_sample

    started, cpu = time.perf_counter(), time.process_time()
    try:
        if job.folder.exists():
            atomic.remove_temporaries(job.folder)
            if job.frames > 1:
                clear_clip(job.folder)
        settings = SampleSettings(crop=crop and job.frames == 1)
        if job.frames > 1:
            summary = generate_clip(generator, job.seed, job.folder, frames=job.frames, settings=settings)
        else:
            summary = generate_sample(generator, job.seed, job.folder, settings)
        error = None
    except Exception as err:  # one failing sample must not stop the others
        summary, error = None, f"{type(err).__name__}: {err}"
    return Outcome(job.index, summary, error, time.perf_counter() - started, time.process_time() - cpu)


def load_generator(crop: bool, threads: int):
    """A ``Generator`` for this process, with Warp's banner off and ``threads`` torch / OpenCV threads."""
    import cv2
    import torch

    try:
        import warp

        warp.config.quiet = True
        warp.config.log_level = getattr(warp, "LOG_ERROR", 40)
    except ImportError:
        pass
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    from humanvid.synth.dataset import Generator

    return Generator.load(crop=crop)


def _worker(jobs, results, crop: bool, threads: int, parent: int) -> None:
    """A worker process: build a Generator once, then make jobs until the None sentinel or the parent's end."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # native libraries (TFLite, absl, Warp) must not draw over the progress bar
    os.dup2(devnull, 2)
    try:
        generator = load_generator(crop, threads)
    except Exception as err:
        results.put(("load_failed", f"{type(err).__name__}: {err}"))
        return
    try:
        while (job := _next_job(jobs, parent)) is not None:
            results.put(("done", run_one(generator, job, crop)))
    finally:
        generator.close()


def _next_job(jobs, parent: int):
    """The next job, or None at the sentinel or once the parent process has gone (killed)."""
    while os.getppid() == parent:
        try:
            return jobs.get(timeout=1.0)
        except queue.Empty:
            continue
    return None


def run_jobs(jobs: list[Job], workers: int, crop: bool, on_outcome, generator=None) -> None:
    """Make ``jobs`` on ``workers`` processes (in this process if 1), calling ``on_outcome(Outcome)`` as each ends.

    generator: an already loaded ``Generator`` to use in this process (then ``workers`` is ignored).
    """
    if generator is not None:
        for job in jobs:
            on_outcome(run_one(generator, job, crop))
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    if workers == 1 or len(jobs) <= 1:
        from humanvid.quiet import native_stderr_silenced

        with native_stderr_silenced(keep_python_stderr=True):
            generator = load_generator(crop, threads)
            try:
                for job in jobs:
                    on_outcome(run_one(generator, job, crop))
            finally:
                generator.close()
        return
    context = multiprocessing.get_context("spawn")
    job_queue, result_queue = context.Queue(), context.Queue()
    for job in jobs:
        job_queue.put(job)
    processes = [context.Process(target=_worker, args=(job_queue, result_queue, crop, threads, os.getpid()), daemon=True)
                 for _ in range(min(workers, len(jobs)))]
    for process in processes:
        job_queue.put(None)
        process.start()
    try:
        remaining = len(jobs)
        while remaining:
            try:
                kind, payload = result_queue.get(timeout=1.0)
            except queue.Empty:
                if not any(p.is_alive() for p in processes):
                    raise RuntimeError("every worker process ended early (out of memory?)") from None
                continue
            if kind == "load_failed":
                raise RuntimeError(f"a worker could not load the generator: {payload}")
            on_outcome(payload)
            remaining -= 1
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()


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
@click.option("--split", type=click.Choice(SPLITS), required=True, help="Which split: its seeds never overlap another's.")
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

    block = seed_block(split, clips)
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
