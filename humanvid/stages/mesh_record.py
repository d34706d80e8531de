"""The mesh stage's bookkeeping in run.json: starting it (what is kept, what goes), and recording its figures.

The pipeline (humanvid.pipeline) meshes a run in one pass; the Ray engine (humanvid.engines.chunks) in chunks of
frames after building the avatar once. Both start the stage with `begin_mesh_stage` and record it with
`record_mesh_stage`, so run.json is the same whichever ran it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from humanvid.evaluation.parts import WHOLE_IOU
from humanvid.exchange.run_folder import RunFolder
from humanvid.settings import Settings

if TYPE_CHECKING:  # the stage itself (torch, the network) is imported where meshes are made
    from humanvid.stages.mesh import MeshResult, MeshSettings


@dataclass
class MeshPlan:
    """What the chunks of one input's mesh stage do, decided after its fit."""

    fingerprint: str  # the mesh stage's, as the pipeline computes it
    depth_margin: float  # metres, the band the stage uses for this input
    wanted: list[int]  # source frames with a person, in order: every frame that gets a mesh
    todo: list[int]  # those the chunks mesh (wanted, less the meshes kept from an interrupted run)
    done: list[int]  # meshes kept from an earlier, interrupted run of the same settings
    complete: bool = False  # the stage was complete already: nothing to mesh or record
    avatar: MeshResult | None = None  # the pass that built the canonical avatar (its timings and keyframes)


@dataclass
class ChunkResult:
    """One chunk's meshes: what run_mesh returned for them."""

    frames: list[int]  # the chunk's source frames, every one meshed by this task
    result: MeshResult | None  # None when it failed
    error: str | None = None  # why it failed (the input fails with it)


def mesh_settings(settings: Settings, depth_margin: float) -> MeshSettings:
    """The mesh stage's settings, built as the pipeline builds them."""
    from humanvid.stages.mesh import MeshSettings

    return MeshSettings(settings.checkpoint_path(), settings.resolution, settings.temporal_window, settings.device,
                        depth_margin, settings.body_model, settings.model_path, settings.topology)


def begin_mesh_stage(run: RunFolder, manifest: dict, settings: Settings) -> MeshPlan:
    """Start (or find complete) the mesh stage of a fitted run, as the pipeline does before run_mesh.

    `manifest`: run.json after the fit (changed and written here when the stage starts)."""
    from humanvid.fingerprints import mesh_fingerprint

    depth_margin = settings.depth_margin_for(len(manifest["frames"]))
    fingerprint = mesh_fingerprint(manifest["stages"].get("fit", {}).get("fingerprint"), settings, depth_margin)
    stage = manifest["stages"].get("mesh", {})
    wanted = [f["frame"] for f in manifest["frames"] if f["status"] == "ok"]
    same = stage.get("fingerprint") == fingerprint
    if not same:  # made from another fit, checkpoint or resolution: made again, and what showed them goes
        shutil.rmtree(run.meshes, ignore_errors=True)
        shutil.rmtree(run.avatar, ignore_errors=True)
        remove_exports(run, manifest)
    done = [i for i in wanted if run.mesh_path(i).exists()] if same else []
    if same and stage.get("status") == "complete" and len(done) == len(wanted):
        return MeshPlan(fingerprint, depth_margin, wanted, [], done, complete=True)
    manifest["stages"]["mesh"] = {"status": "running", "fingerprint": fingerprint}
    run.write_manifest(manifest)
    kept = set(done)
    return MeshPlan(fingerprint, depth_margin, wanted, [i for i in wanted if i not in kept], done)


def record_mesh_stage(run: RunFolder, manifest: dict, settings: Settings, plan: MeshPlan,
                      chunks: list[ChunkResult]) -> None:
    """Write the finished stage into run.json with the figures the pipeline records (per frame: mesh, faces,
    watertight, mask IoU, IoU and coverage of each visible part; the stage: settings, topology, keyframes,
    seconds; quality, with the share of frames whose visible parts are all whole). Frames meshed before
    an interrupted run (plan.done) keep what was recorded of them, as in a resumed local run. `seconds` is the compute time
    of the avatar pass and the chunks together."""
    from humanvid.implicit.inference.frame import BODY_PRIOR

    skipped = set(plan.done)
    owner = {i: chunk.result for chunk in chunks for i in chunk.frames}
    for row, entry in enumerate(manifest["frames"]):
        if entry["frame"] in skipped:
            continue
        result = owner.get(entry["frame"])
        meshed = result is not None and bool(result.meshed[row])
        entry["mesh"] = "ok" if meshed else "none"
        if meshed:
            entry.update(mesh_faces=int(result.faces[row]), watertight=bool(result.watertight[row]),
                         mesh_mask_iou=round(float(result.mask_iou[row]), 4))
            parts = result.parts[row] if result.parts else {}
            entry["part_iou"] = {name: round(score.iou, 3) for name, score in parts.items()}
            entry["part_coverage"] = {name: round(score.coverage, 3) for name, score in parts.items()}
    passes = ([plan.avatar] if plan.avatar is not None else []) + [chunk.result for chunk in chunks]
    seconds = sum(p.seconds for p in passes)
    timings: dict[str, float] = {}
    for p in passes:
        for part, value in p.timings.items():
            timings[part] = timings.get(part, 0.0) + value
    computed = sum(len(chunk.frames) for chunk in chunks)
    first = chunks[0].result
    made = [f for f in manifest["frames"] if f.get("mesh") == "ok"]
    manifest["stages"]["mesh"] = {
        "status": "complete", "fingerprint": plan.fingerprint, "checkpoint": str(settings.checkpoint_path()),
        "resolution": settings.resolution, "temporal_window": settings.temporal_window,
        "depth_margin": plan.depth_margin, "body_prior": BODY_PRIOR, "topology": first.topology,
        "keyframes": first.keyframes,
        "seconds": round(seconds, 3), "seconds_per_frame": round(seconds / max(computed, 1), 4),
        **{f"seconds_{part}": round(value, 3) for part, value in timings.items()},
    }
    manifest["quality"]["meshes"] = len(made)
    manifest["quality"]["watertight_fraction"] = round(sum(f["watertight"] for f in made) / len(made), 4) \
        if made else None
    manifest["quality"]["mesh_mask_iou_mean"] = round(float(np.mean([f["mesh_mask_iou"] for f in made])), 4) \
        if made else None
    scored = [f for f in made if "part_iou" in f]
    manifest["quality"]["parts_whole_fraction"] = round(
        sum(all(v >= WHOLE_IOU for v in f["part_iou"].values()) for f in scored) / len(scored), 4) if scored else None
    run.write_manifest(manifest)


def remove_exports(run: RunFolder, manifest: dict) -> None:
    """Delete what the export stage wrote (its run.json list) and mark it not run."""
    for name in manifest["stages"].get("export", {}).get("files", []):
        (run.root / name).unlink(missing_ok=True)
    manifest["stages"]["export"] = {"status": "not run"}
