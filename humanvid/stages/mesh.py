"""The mesh stage: crops + fitted bodies → one clothed, watertight mesh per frame (meshes/NNNNNN.obj).

For each frame with a person: the network's occupancy is evaluated coarse to
fine inside the visual hull of the mask (and, with a depth margin, capped by a
depth band around the fitted body: humanvid.implicit.reconstruct.depth_band), and kept
as a volume; with a temporal window k, the frame's field is then fused with the
fields of the k frames on either side, carried through the fitted body's
skinning (humanvid.implicit.fusion), and the fused field is meshed. Frames
stream through a window of 2k + 1 volumes, so memory does not grow with the
video. Frames meshed by an earlier run with the same settings are skipped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from humanvid.errors import HumanvidError
from humanvid.evaluation.silhouette import (
    crop_intrinsics,
    mask_iou,
    rasterize_silhouette,
)
from humanvid.export.obj import write_obj
from humanvid.implicit.fusion import PosedBody, VolumeField, fused_occupancy
from humanvid.implicit.meshing import Grid, evaluate_coarse_to_fine, extract_surface
from humanvid.implicit.reconstruct import (
    DEPTH_MARGIN,
    DepthBand,
    FrameInputs,
    banded,
    encode_frame,
    frame_band,
    frame_grid,
    frame_keep,
    occupancy_function,
)
from humanvid.stages.fit import SILHOUETTE_SIZE, mask_affines

COARSE_STEP = 8  # lattice step of the first, coarse evaluation (a power of two)
CARRY_STRIDE = 4  # fusion carries points with every 4th body vertex: the skinning field is smooth


@dataclass
class MeshSettings:
    checkpoint: Path
    resolution: int = 256
    temporal_window: int = 2
    device: str = "cpu"
    depth_margin: float = DEPTH_MARGIN  # metres before and behind the fitted body that are meshed (0: all)
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


@dataclass
class VideoFrames:
    """What the mesh stage reads of preprocessing, for the T selected frames."""

    frames: np.ndarray  # (T,) source frame indices
    found: np.ndarray  # (T,) bool
    affines: np.ndarray  # (T, 2, 3), zeros without a person
    intrinsics: np.ndarray  # (4,)


def load_video_frames(out_dir: Path) -> VideoFrames:
    try:
        entries = json.loads((out_dir / "keypoints.json").read_text())["frames"]
        camera = json.loads((out_dir / "camera.json").read_text())
    except (OSError, ValueError, KeyError) as err:
        raise HumanvidError(f"{out_dir}: preprocessing outputs are missing or damaged ({err})") from None
    found = np.array([e["status"] == "ok" for e in entries], bool)
    affines = np.array([e["crop_affine"] if ok else np.zeros((2, 3)) for e, ok in zip(entries, found)], np.float64)
    return VideoFrames(np.array([e["frame"] for e in entries], np.int64), found, affines.reshape(-1, 2, 3),
                       np.array([camera["fx"], camera["fy"], camera["cx"], camera["cy"]], np.float64))


class FittedBodies:
    """The fitted body of each frame, posed on demand (vertices, keypoints, skinning transforms)."""

    def __init__(self, out_dir: Path, body_model: str, model_path: Path | None):
        from humanvid.body import create_body_model
        from humanvid.body.params_io import load_body_params

        saved = load_body_params(out_dir / "body" / "params.npz")
        if saved.model != body_model:
            raise HumanvidError(f"{out_dir}: bodies were fitted with {saved.model}, not {body_model}; "
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


def read_frame(out_dir: Path, video: VideoFrames, row: int, body_vertices: np.ndarray,
               keypoints: np.ndarray, body_faces: np.ndarray | None = None) -> FrameInputs:
    name = f"{video.frames[row]:06d}.png"
    crop = cv2.imread(str(out_dir / "crops" / name), cv2.IMREAD_COLOR)
    mask = cv2.imread(str(out_dir / "masks" / name), cv2.IMREAD_GRAYSCALE)
    if crop is None or mask is None:
        raise HumanvidError(f"{out_dir}: crop or mask of frame {video.frames[row]} is missing; "
                            "rerun with --overwrite")
    return FrameInputs(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB), mask, video.intrinsics, video.affines[row],
                       keypoints, body_vertices, body_faces)


def run_mesh(out_dir: Path, settings: MeshSettings, done: set[int] = frozenset(),
             on_progress: Callable[[int, int], None] = lambda *_: None) -> MeshResult:
    """Mesh every frame with a person; `done` holds source frame indices whose meshes already exist."""
    from humanvid.implicit.checkpoint import load_network
    from humanvid.stages.fit import quiet_warp

    quiet_warp()  # before anything imports anny
    started = time.perf_counter()
    timings = dict.fromkeys(("network", "fusion", "surface", "output"), 0.0)
    network = load_network(settings.checkpoint, settings.device)
    video = load_video_frames(out_dir)
    bodies = FittedBodies(out_dir, settings.body_model, settings.model_path)
    count, window = len(video.frames), settings.temporal_window
    result = MeshResult(np.zeros(count, bool), np.zeros(count, int), np.zeros(count, bool), np.full(count, np.nan),
                        0.0, timings)
    todo = [row for row in range(count) if video.found[row] and int(video.frames[row]) not in done]
    needed = {r for row in todo for r in range(row - window, row + window + 1) if 0 <= r < count and video.found[r]}
    inputs: dict[int, FrameInputs] = {}
    posed: dict[int, PosedBody] = {}
    fields: dict[int, VolumeField] = {}
    grids: dict[int, Grid] = {}
    bands: dict[int, DepthBand | None] = {}
    unfused: dict[int, np.ndarray] = {}  # without fusion, the network's own volume is meshed as it is

    def prepare(row: int) -> None:
        if row in inputs or row not in needed:
            return
        tick = time.perf_counter()
        body, keypoints, vertices = bodies.pose(row)
        frame = read_frame(out_dir, video, row, vertices, keypoints, bodies.faces)
        grid = frame_grid(frame, settings.resolution, COARSE_STEP)
        occupancy = occupancy_function(network, encode_frame(network, frame, settings.device))
        band = frame_band(frame, grid, settings.depth_margin)
        # A frame's field that neighbours will read is kept whole (visual hull only): each band follows its
        # own frame's body, and cut fields averaged over the window would flicker at the cuts.
        if window:
            volume, _ = evaluate_coarse_to_fine(occupancy, grid, COARSE_STEP, keep=frame_keep(frame))
        else:
            volume, _ = evaluate_coarse_to_fine(banded(occupancy, band), grid, COARSE_STEP, keep=frame_keep(frame, band))
        inputs[row], posed[row], grids[row], bands[row] = frame, body, grid, band
        if window:
            fields[row] = VolumeField.cropped(volume, grid)
        else:
            unfused[row] = volume
        timings["network"] += time.perf_counter() - tick

    finished = 0
    for row in range(count):
        if not video.found[row]:
            continue
        if int(video.frames[row]) in done:
            result.meshed[row] = True
            continue
        for other in range(row - window, row + window + 1):
            prepare(other)
        frame, grid = inputs[row], grids[row]
        tick = time.perf_counter()
        if window:
            fused = banded(fused_occupancy(row, fields, posed, window), bands[row])
            volume, _ = evaluate_coarse_to_fine(fused, grid, COARSE_STEP, keep=frame_keep(frame, bands[row]))
        else:
            volume = unfused.pop(row)
        timings["fusion"] += time.perf_counter() - tick
        tick = time.perf_counter()
        mesh = extract_surface(volume, grid)
        timings["surface"] += time.perf_counter() - tick
        tick = time.perf_counter()
        if len(mesh.faces):
            write_obj(out_dir / "meshes" / f"{video.frames[row]:06d}.obj", mesh.vertices, mesh.faces)
            result.meshed[row] = True
            result.faces[row] = len(mesh.faces)
            result.watertight[row] = bool(mesh.is_watertight)
            result.mask_iou[row] = mesh_mask_iou(mesh.vertices, mesh.faces, frame)
        timings["output"] += time.perf_counter() - tick
        for old in [r for r in inputs if r < row + 1 - window]:  # no later frame reads these any more
            del posed[old], inputs[old], grids[old], bands[old]
            fields.pop(old, None)
        finished += 1
        on_progress(finished, len(todo))
    result.seconds = time.perf_counter() - started
    return result


def mesh_mask_iou(vertices: np.ndarray, faces: np.ndarray, frame: FrameInputs) -> float:
    """IoU of the mesh's silhouette in the crop with the person mask, at the fit stage's silhouette size."""
    camera = crop_intrinsics(frame.intrinsics, mask_affines(frame.affine[None])[0])
    silhouette = rasterize_silhouette(vertices, faces, camera, SILHOUETTE_SIZE)
    mask = cv2.resize(frame.mask, (SILHOUETTE_SIZE, SILHOUETTE_SIZE), interpolation=cv2.INTER_AREA) > 127
    return mask_iou(silhouette, mask)
