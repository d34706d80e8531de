"""A video's mesh stage in chunks of frames: its plan, the split, each chunk, and the stage's record in run.json.

The pipeline's mesh stage (humanvid.pipeline) runs humanvid.stages.mesh.run_mesh once over every frame. Split,
the same work runs as:

1. `begin_mesh_stage` (humanvid.stages.mesh_record, shared with the pipeline), after the whole-video fit: the stage's fingerprint; meshes, avatar and exports made with
   other settings removed (as the pipeline removes them); the stage marked running; the frames left to mesh
   (meshes written by an interrupted run of the same settings are kept);
2. `build_avatar`: with the canonical topology, the video's avatar built once, before any chunk starts
   (run_mesh with every frame given as done meshes nothing but builds and writes avatar/);
3. `mesh_chunk`, once per chunk, anywhere the output folder is seen: run_mesh of the chunk's frames, every
   other frame given as done. A chunk is the unit of retry: a chunk whose worker died is meshed again whole
   (its meshes are rewritten with the same bytes), so that run.json gets every frame's figures. A frame's mesh reads its neighbours' evidence (the canonical refinement's centred
   3-frame window; per-frame fusion's ±temporal_window) from every frame with a person, whichever chunk writes
   their meshes: chunks overlap in what they read, never in what they write;
4. `record_mesh_stage` (humanvid.stages.mesh_record): the chunks' figures merged into run.json.

Every chunk poses the avatar as written in avatar/ (a local run reads it back after writing it too), so chunked
meshes are byte-identical to a local run's.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from humanvid.settings import Settings
from humanvid.stages.mesh_record import ChunkResult, MeshPlan, begin_mesh_stage, mesh_settings, record_mesh_stage

if TYPE_CHECKING:  # the stage itself (torch, the network) is imported where a chunk runs
    from humanvid.stages.mesh import MeshResult

__all__ = ["ChunkResult", "MeshPlan", "begin_mesh_stage", "build_avatar", "chunk_count", "mesh_chunk",
           "record_mesh_stage", "split_frames"]

MIN_CHUNK_FRAMES = 48  # a chunk's own cost (loading the network, the body model and the avatar) stays small


def split_frames(frames: list[int], chunks: int) -> list[list[int]]:
    """`frames` in at most `chunks` contiguous runs of nearly equal length (none empty), in order."""
    chunks = max(1, min(chunks, len(frames)))
    size, extra = divmod(len(frames), chunks)
    runs, start = [], 0
    for index in range(chunks):
        stop = start + size + (index < extra)
        runs.append(list(frames[start:stop]))
        start = stop
    return [run for run in runs if run]


def chunk_count(frames: int, requested: int | None, slots: int) -> int:
    """How many chunks a mesh stage of `frames` frames gets: `requested` if given, else one per
    MIN_CHUNK_FRAMES frames and at most `slots` (the workers that can mesh at once); never more than frames."""
    count = requested if requested is not None else min(max(slots, 1), frames // MIN_CHUNK_FRAMES)
    return max(1, min(count, frames))


def build_avatar(run_root: Path, settings: Settings, plan: MeshPlan) -> MeshResult | None:
    """The canonical avatar, built and written to avatar/ before the chunks (None: the run needs none first)."""
    from humanvid.stages.mesh import run_mesh

    if settings.topology != "canonical" or len(plan.wanted) < 2 or not plan.todo:
        return None
    return run_mesh(run_root, mesh_settings(settings, plan.depth_margin), set(plan.wanted))


def mesh_chunk(run_root: Path, settings: Settings, plan: MeshPlan, frames: list[int], on_progress=None
               ) -> ChunkResult:
    """Mesh `frames` (one chunk of plan.todo) into meshes/, reading their neighbours from every frame."""
    from humanvid.stages.mesh import run_mesh

    done = set(plan.wanted) - set(frames)
    result = run_mesh(run_root, mesh_settings(settings, plan.depth_margin), done, on_progress or (lambda *_: None))
    return ChunkResult(list(frames), result)


