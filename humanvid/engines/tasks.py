"""What a worker of the ray engine runs, free of Ray itself: one input's whole job, or a chunked video's steps.

Each function takes the Job, the output root and the Settings exactly as the local engine gets them (the
same paths, so run.json is the same), reports through a Progress (humanvid's protocol) and returns plain
dataclasses. Problems with an input never raise: they come back as a JobResult's error, as from run_job.

A chunked video runs as:
    prepare_input  preprocess and fit (run_job stopping after the fit), the mesh stage started and, for the
                   canonical topology, its avatar built → Prepared (its MeshPlan);
    mesh_frames    one per chunk of plan.todo, in parallel → ChunkResult;
    finish_input   the chunks' figures recorded in run.json, then run_job with the full settings: what is done
                   is skipped, the export runs → JobResult.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from humanvid.engines.chunks import ChunkResult, MeshPlan, begin_mesh_stage, build_avatar, mesh_chunk, \
    record_mesh_stage
from humanvid.errors import HumanvidError
from humanvid.exchange.run_folder import RunFolder
from humanvid.inputs import Job
from humanvid.pipeline import JobResult, run_job
from humanvid.settings import Settings
from preprocessing.progress import Progress


@dataclass(frozen=True)
class Place:
    """Where the driver runs: relative paths of the command line resolve against its working directory."""

    cwd: str
    verbose: bool = False  # print a bug's traceback (the driver shows workers' output only when verbose)


@contextmanager
def driver_directory(place: Place) -> Iterator[None]:
    """Work in the driver's working directory where this node has it (a shared filesystem), as a local run
    does; elsewhere relative paths cannot resolve and the command line must give absolute ones."""
    before = os.getcwd()
    if os.path.isdir(place.cwd):
        os.chdir(place.cwd)
    try:
        yield
    finally:
        os.chdir(before)


def internal_error(job: Job, output: Path, err: BaseException, place: Place) -> JobResult:
    """A bug must not stop the rest of a batch: the input fails with its description (as the local engine)."""
    if place.verbose:
        print(traceback.format_exc(), file=sys.stderr)
    return JobResult(job, output / job.name, error=f"internal error: {type(err).__name__}: {err}")


def run_input(job: Job, output: Path, settings: Settings, progress: Progress, place: Place) -> JobResult:
    """One input's whole job: humanvid.pipeline.run_job, in the driver's directory."""
    with driver_directory(place):
        try:
            return run_job(job, output, settings, progress, quiet=not place.verbose)
        except Exception as err:
            return internal_error(job, output, err, place)


@dataclass
class Prepared:
    """A chunked video after its first step."""

    result: JobResult  # of preprocessing and the fit; its error, if any, is the input's
    plan: MeshPlan | None  # None when the input failed
    started: float  # time.time() when the input's work began (its seconds in the table run from here)
    wrote: bool = False  # run.json was written meanwhile with the first step's provisional settings


def prepare_input(job: Job, output: Path, settings: Settings, progress: Progress, place: Place) -> Prepared:
    """Preprocess and fit (resuming what is done), start the mesh stage and build the canonical avatar."""
    started = time.time()
    first = replace(settings, until="fit", exports=())  # run.json gets the full settings in finish_input
    result = run_input(job, output, first, progress, place)
    if not result.succeeded:
        return Prepared(result, None, started)
    with driver_directory(place):
        run = RunFolder(output / job.name)
        try:
            plan = begin_mesh_stage(run, run.read_manifest(), settings)
            if plan.todo:
                progress.start("mesh · avatar", 1)
                plan.avatar = build_avatar(run.root, settings, plan)
                progress.advance()
        except HumanvidError as err:
            result.error = str(err)
        except Exception as err:
            result.error = internal_error(job, output, err, place).error
        if result.error:
            mark_mesh_failed(run, result.error)
            return Prepared(result, None, started)
    return Prepared(result, plan, started, wrote=not result.resumed or not plan.complete)


def mesh_frames(job: Job, output: Path, settings: Settings, prepared: Prepared, frames: list[int],
                progress: Progress, place: Place) -> ChunkResult:
    """One chunk of the mesh stage: meshes/ of `frames`; a problem comes back as the chunk's error."""
    progress.start("mesh", len(frames))
    finished = [0]

    def on_progress(done: int, total: int) -> None:
        progress.advance(done - finished[0])
        finished[0] = done

    with driver_directory(place):
        try:
            return mesh_chunk(output / job.name, settings, prepared.plan, frames, on_progress)
        except HumanvidError as err:
            return ChunkResult(list(frames), None, error=str(err))
        except Exception as err:
            return ChunkResult(list(frames), None, error=internal_error(job, output, err, place).error)


def finish_input(job: Job, output: Path, settings: Settings, prepared: Prepared, chunks: list[ChunkResult],
                 progress: Progress, place: Place) -> JobResult:
    """Record the chunks in run.json and end the input with run_job (the export; nothing done is redone)."""
    with driver_directory(place):
        run = RunFolder(output / job.name)
        failed = [chunk.error for chunk in chunks if chunk.error]
        try:
            if failed:
                mark_mesh_failed(run, failed[0])
                result = replace(prepared.result, error=failed[0])
            else:
                if chunks or prepared.wrote:
                    manifest = run.read_manifest()
                    manifest["settings"] = settings.as_dict()  # as run_job writes it: the latest request
                    if chunks:
                        record_mesh_stage(run, manifest, settings, prepared.plan, chunks)
                    else:
                        run.write_manifest(manifest)
                result = None
        except Exception as err:
            result = internal_error(job, output, err, place)
    if result is None:
        result = run_input(job, output, replace(settings, overwrite=False), progress, place)
        result.resumed = result.resumed and prepared.result.resumed and prepared.plan.complete
    result.seconds = time.time() - prepared.started
    return result


def mark_mesh_failed(run: RunFolder, reason: str) -> None:
    """A failed mesh stage is marked so in run.json, as the pipeline marks a stage that was running."""
    manifest = run.read_manifest()
    if manifest is None:
        return
    for name, stage in manifest.get("stages", {}).items():
        if stage.get("status") == "running":
            manifest["stages"][name] = {"status": f"failed: {reason}"}
    run.write_manifest(manifest)
