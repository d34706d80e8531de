"""Making a split's synthetic samples or clips in worker processes, resumably (what `humanvid synth` runs).

Each sample folder is what ``humanvid.synth.dataset.generate_sample`` writes (its
``sample.json`` last); each clip folder what ``generate_clip`` writes (``clip.json``
last), so a rerun skips what is finished. ``DIR/<split>[-clips]/synth_run.json``
keeps the figures of the latest run.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
from dataclasses import dataclass, field
from pathlib import Path

from humanvid.synth.splits import folder_name, seed_block


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
