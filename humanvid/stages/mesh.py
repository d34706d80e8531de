"""The mesh stage: crops + fitted bodies → one clothed, watertight mesh per frame (meshes/NNNNNN.obj).

Reads the run folder (humanvid.exchange.run_folder), meshes the frames with a person
(humanvid.implicit.inference.sequence: the network's field, fused over the temporal window,
capped by the depth band, marching cubes) and writes each mesh with its figures. Frames meshed
by an earlier run with the same settings are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from humanvid.constants import CROP_SIZE, SILHOUETTE_SIZE, VIDEO_DEPTH_MARGIN
from humanvid.errors import HumanvidError
from humanvid.evaluation.silhouette import mask_iou, rasterize_silhouette
from humanvid.exchange.body_params import load_body_params
from humanvid.exchange.obj import write_obj
from humanvid.exchange.run_folder import RunFolder
from humanvid.implicit.inference.frame import FrameInputs
from humanvid.implicit.inference.fusion import PosedBody
from humanvid.implicit.inference.sequence import SequenceFrame, SequenceSettings, mesh_sequence
from humanvid.implicit.model.checkpoint import load_network
from humanvid.projection import crop_camera, resized_affine
from humanvid.stages.fit import quiet_warp

CARRY_STRIDE = 4  # fusion carries points with every 4th body vertex: the skinning field is smooth


@dataclass
class MeshSettings:
    checkpoint: Path
    resolution: int = 256
    temporal_window: int = 2
    device: str = "cpu"
    depth_margin: float = VIDEO_DEPTH_MARGIN  # metres before and behind the fitted body that are meshed (0: all)
    body_model: str = "anny"
    model_path: Path | None = None


@dataclass
class MeshResult:
    meshed: np.ndarray  # (T,) bool, a mesh was written (or found from an earlier run)
    faces: np.ndarray  # (T,) faces per mesh, 0 where none
    watertight: np.ndarray  # (T,) bool
    mask_iou: np.ndarray  # (T,) IoU of the mesh's silhouette with the person mask, NaN where none
    seconds: float
    timings: dict = field(default_factory=dict)  # seconds per part: network, fusion, surface, output


class FittedBodies:
    """The fitted body of each frame, posed on demand (vertices, keypoints, skinning transforms)."""

    def __init__(self, run: RunFolder, body_model: str, model_path: Path | None):
        from humanvid.body import create_body_model

        saved = load_body_params(run.body_params_path)
        if saved.model != body_model:
            raise HumanvidError(f"{run.root}: bodies were fitted with {saved.model}, not {body_model}; "
                                "rerun with --overwrite")
        self.model = create_body_model(body_model, model_path)
        self.params = saved.params

    @torch.no_grad()
    def pose(self, row: int) -> tuple[PosedBody, np.ndarray, np.ndarray]:
        """The body of frame `row` (its fusion carriers), its (33, 3) MediaPipe-order keypoints (NaN where
        the model has none) and all its (V, 3) vertices."""
        output = self.model(self.params.index([row]))
        keypoints = output.keypoints[0].double().numpy()
        keypoints[output.keypoint_weights.numpy() <= 0] = np.nan
        carriers = torch.arange(0, output.vertices.shape[1], CARRY_STRIDE)
        transforms = output.vertex_transforms(carriers)[0].double().numpy()
        vertices = output.vertices[0].double().numpy()
        return PosedBody(vertices[carriers.numpy()], transforms), keypoints, vertices

    @property
    def faces(self) -> np.ndarray:
        return self.model.faces.numpy()


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
                        0.0, timings)
    available = [row for row in range(count) if track.found[row]]
    result.meshed[[row for row in available if int(track.frames[row]) in done]] = True
    todo = [row for row in available if int(track.frames[row]) not in done]

    def load(row: int) -> SequenceFrame:
        body, keypoints, vertices = bodies.pose(row)
        frame = int(track.frames[row])
        inputs = FrameInputs(run.read_crop(frame), run.read_mask(frame), intrinsics, track.affines[row], keypoints,
                             vertices, bodies.faces)
        return SequenceFrame(inputs, body)

    sequence = SequenceSettings(settings.resolution, settings.temporal_window, settings.depth_margin, settings.device)
    for finished, (row, frame, mesh) in enumerate(mesh_sequence(todo, available, load, network, sequence, timings), 1):
        tick = time.perf_counter()
        if len(mesh.faces):
            write_obj(run.mesh_path(track.frames[row]), mesh.vertices, mesh.faces)
            result.meshed[row] = True
            result.faces[row] = len(mesh.faces)
            result.watertight[row] = bool(mesh.is_watertight)
            result.mask_iou[row] = mesh_mask_iou(mesh.vertices, mesh.faces, frame)
        timings["output"] += time.perf_counter() - tick
        on_progress(finished, len(todo))
    result.seconds = time.perf_counter() - started
    return result


def mesh_mask_iou(vertices: np.ndarray, faces: np.ndarray, frame: FrameInputs) -> float:
    """IoU of the mesh's silhouette in the crop with the person mask, at the fit stage's silhouette size."""
    camera = crop_camera(frame.intrinsics, resized_affine(frame.affine, SILHOUETTE_SIZE, CROP_SIZE))
    silhouette = rasterize_silhouette(vertices, faces, camera, SILHOUETTE_SIZE)
    mask = cv2.resize(frame.mask, (SILHOUETTE_SIZE, SILHOUETTE_SIZE), interpolation=cv2.INTER_AREA) > 127
    return mask_iou(silhouette, mask)
