"""`humanvid reconstruct --engine ray`: each input as Ray tasks, one progress bar, the local engine's results.

Contract (`run_on_ray`):
- an input is one task running humanvid.pipeline.run_job (humanvid.engines.tasks.run_input). A video whose
  mesh stage is split (`--mesh-chunks N` > 1, or by default one chunk per MIN_CHUNK_FRAMES selected frames, at
  most one per CPU of the cluster — per GPU with --device cuda) runs as three kinds of task: prepare (preprocess,
  the whole-video fit, the mesh stage's start and the canonical avatar, built once) → one mesh task per chunk
  of frames, in parallel → finish (the stage's record in run.json, the export);
- every task reserves one CPU; with --device cuda, the tasks that run the fit or the network (input, prepare,
  mesh) also one GPU (`task_resources`);
- a task whose worker dies is retried (max_retries) and resumes from the files already written (every file is
  written atomically); an input that fails is one result with its error, and the others go on; Ctrl-C cancels
  every task and exits with 130;
- the output folder, the inputs and the checkpoint must have the same path on every node (a shared
  filesystem); tasks work in the driver's working directory where a node has it, so relative paths give the
  same run.json as a local run. The results (JobResult, in the order of `jobs`) are what the local engine
  returns, with `seconds` the wall time from an input's first task to its last.

`import ray` happens only here, when the engine is used: a laptop install without the `ray` extra works.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import click
from rich.console import Console

from humanvid.engines.chunks import chunk_count, split_frames
from humanvid.engines.ray_progress import BoardProgress, ProgressBoard, describe
from humanvid.engines.tasks import (Place, Prepared, finish_input, mesh_frames, prepare_input, run_input)
from humanvid.errors import HumanvidError
from humanvid.inputs import Job
from humanvid.pipeline import JobResult
from humanvid.settings import Settings

INSTALL = 'pip install -e ".[ray]"  (or: pip install "ray==2.60.0")'
MAX_RETRIES = 3  # a task whose worker dies runs again this many times at most
GPU_TASKS = ("input", "prepare", "mesh")  # the kinds of task that run the fit or the network
POLL_SECONDS = 0.25


class RayUnavailable(click.ClickException):
    """Ray is missing, or the cluster cannot be reached or lacks what was asked: one line, exit code 2."""

    exit_code = 2


@dataclass(frozen=True)
class RayOptions:
    address: str | None = None  # a running cluster: "HOST:PORT", "auto" or "ray://HOST:PORT"; None: RAY_ADDRESS
    #                             if set, else a cluster of this machine, started and stopped here
    mesh_chunks: int | None = None  # chunks of each video's mesh stage; None: automatic; 1: never split
    max_retries: int = MAX_RETRIES
    num_cpus: int | None = None  # CPUs of a cluster started here (None: every CPU of the machine)


def import_ray():
    """The ray module, or one clear line saying how to install it."""
    try:
        import ray
    except ImportError:
        raise RayUnavailable(f"--engine ray needs Ray, which is not installed: {INSTALL}") from None
    return ray


def check_device_request(device: str) -> None:
    """--device for the ray engine: cpu or cuda (the driver needs no GPU; Ray gives each task its own)."""
    if device in ("cpu", "cuda"):
        return
    if device.startswith("cuda:"):
        raise click.BadParameter(f"{device!r}: with --engine ray use cuda (Ray gives each task its own GPU)",
                                 param_hint="--device")
    raise click.BadParameter(f"{device!r}: use cpu or cuda", param_hint="--device")


def task_resources(kind: str, device: str) -> dict:
    """What a task of `kind` (input, prepare, mesh, finish) reserves: one CPU; with cuda, one GPU for the tasks
    that run the fit or the network. finish runs the export, which uses no GPU."""
    return {"num_cpus": 1, "num_gpus": 1 if device.startswith("cuda") and kind in GPU_TASKS else 0}


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def connect(ray, options: RayOptions, verbose: bool) -> None:
    """Join the cluster at options.address (or RAY_ADDRESS), or start one on this machine."""
    common = {"log_to_driver": verbose, "logging_level": logging.INFO if verbose else logging.ERROR}
    try:
        if options.address:
            ray.init(address=options.address, **common)
        else:
            ray.init(num_cpus=options.num_cpus, include_dashboard=False, **common)
    except Exception as err:  # ConnectionError, TimeoutError, RuntimeError, ValueError: Ray's words, one line
        where = f"at {options.address}" if options.address else "of this machine"
        hint = "" if not options.address or os.environ.get("RAY_AUTH_MODE") else (
            " (a cluster with token authentication also needs RAY_AUTH_MODE=token and its token, in RAY_AUTH_TOKEN"
            " or ~/.ray/auth_token)")
        raise RayUnavailable(f"cannot reach the Ray cluster {where}: {first_line(err)}{hint}") from None


def resource_slots(ray, device: str) -> int:
    """How many mesh tasks the cluster runs at once (its CPUs, or its GPUs with cuda)."""
    resources = ray.cluster_resources()
    if device.startswith("cuda"):
        gpus = int(resources.get("GPU", 0))
        if gpus < 1:
            raise RayUnavailable("--device cuda: the Ray cluster has no GPU (join GPU workers with "
                                 "`ray start --address HEAD:6379 --num-gpus N`), or use --device cpu")
        return gpus
    return max(int(resources.get("CPU", 1)), 1)


def selected_frames(job: Job, settings: Settings) -> int | None:
    """The number of frames the input's selection takes, or None where the driver cannot read it."""
    from preprocessing.video import probe

    try:
        return len(settings.selection.indices(probe(job.source).frame_count))
    except (HumanvidError, OSError, ValueError):
        return None


def run_on_ray(jobs: list[Job], output: Path, settings: Settings, options: RayOptions, console: Console,
               errors: Console, quiet: bool, verbose: bool) -> list[JobResult]:
    """Run every job on Ray (see the module's contract); one JobResult per job, in order."""
    ray = import_ray()
    connect(ray, options, verbose)
    try:
        slots = resource_slots(ray, settings.device)
        return _Run(ray, jobs, output, settings, options, slots, console, errors, quiet, verbose).run()
    finally:
        ray.shutdown()


# What the workers run: plain functions, found by name (humanvid must be installed on every node).
def _input_task(board, key: str, place: Place, job: Job, output: Path, settings: Settings) -> JobResult:
    return run_input(job, output, settings, BoardProgress(board, key), place)


def _prepare_task(board, key: str, place: Place, job: Job, output: Path, settings: Settings) -> Prepared:
    return prepare_input(job, output, settings, BoardProgress(board, key), place)


def _mesh_task(board, key: str, place: Place, job: Job, output: Path, settings: Settings, prepared: Prepared,
               frames: list[int]):
    return mesh_frames(job, output, settings, prepared, frames, BoardProgress(board, key), place)


def _finish_task(board, key: str, place: Place, job: Job, output: Path, settings: Settings, prepared: Prepared,
                 *chunks) -> JobResult:
    return finish_input(job, output, settings, prepared, list(chunks), BoardProgress(board, key), place)


_TASKS = {"input": _input_task, "prepare": _prepare_task, "mesh": _mesh_task, "finish": _finish_task}


@dataclass
class _Input:
    job: Job
    chunked: bool
    tasks: list = field(default_factory=list)  # every task submitted for it (to cancel them)
    keys: list[str] = field(default_factory=list)  # its progress keys
    result: JobResult | None = None


class _Run:
    """The driver's loop: submit, wait, follow prepare with its chunks and finish, show progress, collect."""

    def __init__(self, ray, jobs, output, settings, options, slots, console, errors, quiet, verbose):
        self.ray, self.output, self.settings, self.options, self.slots = ray, output, settings, options, slots
        self.console, self.errors, self.quiet = console, errors, quiet
        self.place = Place(os.getcwd(), verbose)
        self.remote = {kind: ray.remote(function) for kind, function in _TASKS.items()}
        self.pending: dict = {}  # ObjectRef → (its input, its kind), for the tasks whose end the driver awaits
        self.inputs = [_Input(job, settings.until == "mesh" and self._splits(job)) for job in jobs]
        self.warned = 0

    def _splits(self, job: Job) -> bool:
        if self.options.mesh_chunks is not None:
            return self.options.mesh_chunks > 1
        frames = selected_frames(job, self.settings)
        return frames is not None and chunk_count(frames, None, self.slots) > 1

    def submit(self, item: _Input, kind: str, key: str, *args, awaited: bool = True):
        task = self.remote[kind].options(name=f"humanvid-{kind}:{key}", max_retries=self.options.max_retries,
                                         **task_resources(kind, self.settings.device))
        ref = task.remote(self.board, key, self.place, item.job, self.output, self.settings, *args)
        item.tasks.append(ref)
        if key not in item.keys:
            item.keys.append(key)
        if awaited:
            self.pending[ref] = item, kind
        return ref

    def run(self) -> list[JobResult]:
        from humanvid.cli.progress import progress_bar

        self.board = self.ray.remote(num_cpus=0)(ProgressBoard).remote()
        for item in self.inputs:
            self.submit(item, "prepare" if item.chunked else "input", item.job.name)
        with progress_bar(self.console) as bars:
            bar = None if self.quiet else bars.add_task(f"0/{len(self.inputs)} inputs", total=1)
            try:
                while self.pending:
                    ready, _ = self.ray.wait(list(self.pending), num_returns=len(self.pending),
                                             timeout=POLL_SECONDS)
                    for ref in ready:
                        self.collect(ref)
                    self.show(bars, bar)
            except KeyboardInterrupt:
                self.cancel()
                self.errors.print("interrupted; rerun the same command to resume")
                raise SystemExit(130) from None
        return [item.result for item in self.inputs]

    def collect(self, ref) -> None:
        item, kind = self.pending.pop(ref)
        try:
            value = self.ray.get(ref)
        except self.ray.exceptions.RayError as err:  # its worker died too often, it was cancelled, ...
            value = JobResult(item.job, self.output / item.job.name, error=f"the Ray task failed: {first_line(err)}")
        if isinstance(value, Prepared) and value.plan is not None:
            self.after_prepare(item, ref, value)
        else:
            self.finish(item, value.result if isinstance(value, Prepared) else value)

    def after_prepare(self, item: _Input, prepared_ref, prepared: Prepared) -> None:
        """The chunks of the input's mesh stage, then its finish once they all end."""
        todo = prepared.plan.todo
        chunks = split_frames(todo, chunk_count(len(todo), self.options.mesh_chunks, self.slots)) if todo else []
        refs = [self.submit(item, "mesh", f"{item.job.name}#{number}", prepared_ref, frames, awaited=False)
                for number, frames in enumerate(chunks, 1)]
        self.submit(item, "finish", item.job.name, prepared_ref, *refs)

    def finish(self, item: _Input, result: JobResult) -> None:
        item.result = result
        for key in item.keys:
            self.board.end.remote(key)
        if not result.succeeded:
            self.errors.print(f"[red]error:[/] {result.error}", markup=True)

    def show(self, bars, bar) -> None:
        try:
            snapshot = self.ray.get(self.board.snapshot.remote(), timeout=10)
        except self.ray.exceptions.RayError:  # the board's worker died: the run goes on without progress
            return
        for message in snapshot.warnings[self.warned:]:
            self.console.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)
        self.warned = len(snapshot.warnings)
        if bar is not None:
            finished = sum(item.result is not None for item in self.inputs)
            bars.update(bar, total=max(snapshot.total, 1), completed=snapshot.completed,
                        description=describe(snapshot, finished, len(self.inputs)))

    def cancel(self) -> None:
        """Ctrl-C: every task of the run is cancelled (a file being written is left as its temporary, which the
        next run removes; no output is half-written)."""
        for item in self.inputs:
            for ref in item.tasks:
                try:
                    self.ray.cancel(ref, recursive=True)
                except Exception:  # already finished, or the cluster is going away
                    pass
