"""The mesh stage: crops + fitted bodies → one clothed, watertight mesh per frame (meshes/NNNNNN.obj).

Reads the run folder (humanvid.exchange.run_folder) and meshes the frames with a person, in one of
two topologies:

- canonical (videos, by default): one clothed person for the whole video, fused from keyframes in the
  body's rest pose (humanvid.stages.avatar, written to avatar/), posed by each frame's bones: every
  frame's mesh has the same vertices and faces;
- per-frame (and any single image): each frame's own field, fused over the temporal window, capped
  by the depth band, marched alone (humanvid.implicit.inference.sequence).

Nothing is meshed outside what the frame shows: vertices beyond the frame's edges (a person cut by them)
are moved onto the camera frustum's side planes (humanvid.projection.within_frame), the topology kept.
Each mesh is written with its figures. Frames meshed by an earlier run with the same settings are skipped.
A frame whose field holds no surface gets no mesh; when no frame of the run gets one, the stage raises
HumanvidError (the input fails with one line, nothing half-written).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import trimesh

from humanvid.constants import CROP_SIZE, SILHOUETTE_SIZE, VIDEO_DEPTH_MARGIN
from humanvid.errors import HumanvidError
from humanvid.evaluation.parts import PartScore, part_labels, part_scores, visible_parts
from humanvid.evaluation.silhouette import mask_iou, rasterize_silhouette
from humanvid.exchange.avatar import MESHES_MATERIAL
from humanvid.exchange.obj import write_obj
from humanvid.exchange.run_folder import RunFolder
from humanvid.implicit.inference.frame import FrameInputs
from humanvid.implicit.inference.sequence import SequenceFrame, SequenceSettings, mesh_sequence
from humanvid.implicit.model.checkpoint import load_network
from humanvid.projection import crop_camera, resized_affine, within_frame
from humanvid.stages.avatar import make_avatar, no_surface, run_has_avatar, write_own_avatar
from humanvid.stages.bodies import FittedBodies
from humanvid.stages.fit import quiet_warp

PART_SIZE = 256  # px, side of the crop the per-part figures are measured at (arms a few pixels wide at 128)


@dataclass
class MeshSettings:
    checkpoint: Path
    resolution: int = 256
    temporal_window: int = 2
    device: str = "cpu"
    depth_margin: float = VIDEO_DEPTH_MARGIN  # metres before and behind the fitted body that are meshed (0: all)
    body_model: str = "anny"
    model_path: Path | None = None
    topology: str = "canonical"  # "canonical" (one mesh per video, posed per frame) or "per-frame"


@dataclass
class MeshResult:
    meshed: np.ndarray  # (T,) bool, a mesh was written (or found from an earlier run)
    faces: np.ndarray  # (T,) faces per mesh, 0 where none
    watertight: np.ndarray  # (T,) bool
    mask_iou: np.ndarray  # (T,) IoU of the mesh's silhouette with the person mask, NaN where none
    seconds: float
    timings: dict = field(default_factory=dict)  # seconds per part: network, fusion, surface, output
    topology: str = "per-frame"  # what the meshes are: "canonical" or "per-frame"
    keyframes: list[int] = field(default_factory=list)  # source frames fused into the canonical mesh
    parts: list[dict[str, PartScore]] = field(default_factory=list)  # (T,) per visible part with mask pixels


def run_mesh(out_dir: Path, settings: MeshSettings, done: set[int] = frozenset(),
             on_progress: Callable[[int, int], None] = lambda *_: None) -> MeshResult:
    """Mesh every frame with a person; `done` holds source frame indices whose meshes already exist."""
    quiet_warp()  # before anything imports anny
    started = time.perf_counter()
    run = RunFolder(out_dir)
    network = load_network(settings.checkpoint, settings.device)
    track = run.read_keypoints()
    intrinsics = run.read_camera().intrinsics
    bodies = FittedBodies(run, settings.body_model, settings.model_path)
    count = len(track.frames)
    timings = dict.fromkeys(("network", "fusion", "surface", "output"), 0.0)
    result = MeshResult(np.zeros(count, bool), np.zeros(count, int), np.zeros(count, bool), np.full(count, np.nan),
                        0.0, timings, parts=[{} for _ in range(count)])
    camera = run.read_camera()
    available = [row for row in range(count) if track.found[row]]
    result.meshed[[row for row in available if int(track.frames[row]) in done]] = True
    todo = [row for row in available if int(track.frames[row]) not in done]

    def load(row: int) -> SequenceFrame:
        body, keypoints, vertices = bodies.pose(row)
        frame = int(track.frames[row])
        inputs = FrameInputs(run.read_crop(frame), run.read_mask(frame), intrinsics, track.affines[row], keypoints,
                             vertices, bodies.faces)
        return SequenceFrame(inputs, body)

    topology = None  # per-frame meshes have no texture
    if settings.topology == "canonical" and len(available) > 1:
        avatar = make_avatar(run, track.frames, available, bodies, load, network, settings, timings)
        result.topology, result.keyframes = "canonical", [int(frame) for frame in avatar.keyframes]
        meshes = avatar.frame_meshes(todo, available, load, network, settings.device, timings)
        topology = avatar.saved.topology(MESHES_MATERIAL)
    else:
        sequence = SequenceSettings(settings.resolution, settings.temporal_window, settings.depth_margin,
                                    settings.device)
        meshes = ((row, frame, mesh) for row, frame, mesh in mesh_sequence(todo, available, load, network, sequence,
                                                                           timings))
    for finished, (row, frame, mesh) in enumerate(meshes, 1):
        tick = time.perf_counter()
        if len(mesh.faces):
            mesh = trimesh.Trimesh(within_frame(mesh.vertices, intrinsics, camera.width, camera.height), mesh.faces,
                                   process=False)
            write_obj(run.mesh_path(track.frames[row]), mesh.vertices, mesh.faces, topology=topology)
            result.meshed[row] = True
            result.faces[row] = len(mesh.faces)
            result.watertight[row] = bool(mesh.is_watertight)
            result.mask_iou[row] = mesh_mask_iou(mesh.vertices, mesh.faces, frame)
            result.parts[row] = mesh_part_scores(mesh.vertices, mesh.faces, frame, track.landmarks[row],
                                                 (camera.width, camera.height))
        timings["output"] += time.perf_counter() - tick
        on_progress(finished, len(todo))
    if todo and not result.meshed[available].any():
        raise HumanvidError(no_surface(track.frames[todo]))
    if settings.topology == "canonical" and len(available) == 1 and not run_has_avatar(run):
        write_own_avatar(run, track.frames, available[0], bodies)
        result.topology = "canonical"
        result.keyframes = [int(track.frames[available[0]])]
    result.seconds = time.perf_counter() - started
    return result


def mesh_part_scores(vertices: np.ndarray, faces: np.ndarray, frame: FrameInputs, landmarks: np.ndarray,
                     size: tuple[int, int]) -> dict[str, PartScore]:
    """The mesh's figures per visible part (humanvid.evaluation.parts) in the crop at PART_SIZE px.

    landmarks: (33, 4) the frame's MediaPipe landmarks [full-frame px] and visibility; size: the frame's
    (width, height) [px]."""
    affine = resized_affine(frame.affine, PART_SIZE, CROP_SIZE)
    silhouette = rasterize_silhouette(vertices, faces, crop_camera(frame.intrinsics, affine), PART_SIZE)
    mask = cv2.resize(frame.mask, (PART_SIZE, PART_SIZE), interpolation=cv2.INTER_AREA) > 127
    points = landmarks[:, :2] @ affine[:, :2].T + affine[:, 2]
    return part_scores(mask, silhouette, part_labels(points, PART_SIZE), visible_parts(landmarks, size))


def mesh_mask_iou(vertices: np.ndarray, faces: np.ndarray, frame: FrameInputs) -> float:
    """IoU of the mesh's silhouette in the crop with the person mask, at the fit stage's silhouette size."""
    camera = crop_camera(frame.intrinsics, resized_affine(frame.affine, SILHOUETTE_SIZE, CROP_SIZE))
    silhouette = rasterize_silhouette(vertices, faces, camera, SILHOUETTE_SIZE)
    mask = cv2.resize(frame.mask, (SILHOUETTE_SIZE, SILHOUETTE_SIZE), interpolation=cv2.INTER_AREA) > 127
    return mask_iou(silhouette, mask)
