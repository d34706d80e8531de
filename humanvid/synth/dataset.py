"""One synthetic sample end to end, written to a folder: person → ground truth → render → crop → occupancy.

A sample is a pure function of its integer seed (the person draws from
``default_rng(seed)``, the view and the occupancy points from their own
``default_rng([seed, k])`` streams), so a split defined by seeds is identical on
every machine. Folder contents:

    render.png, render_mask.png, render_depth.png, render_normals.png, render_labels.png,
    render_camera.json           the full frame and its buffers (humanvid.synth.rendering_io)
    crop.png, mask.png, sample.npz   the network's training sample (humanvid.implicit.training.samples),
                                 cut by the real preprocessing (MediaPipe → crop), when it finds the person
    occupancy.npz                occupancy points (float16, camera frame) and labels, always
    body.npz                     phenotype, Anny pose, keypoints (33, 3) camera frame, world → camera
    mesh.npz                     the ground-truth clothed surface: its voxel grid (humanvid.synth.groundtruth_io)
    sample.json                  seed, motion, garments, checks and timings

All 3D data on disk are in the OpenGL camera frame of DESIGN.md; the generator works in
Anny's world frame (z up) and converts with the view's world → camera transform.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from humanvid import atomic
from humanvid.geometry.body_distance import vertex_normals
from humanvid.implicit.training.samples import TrainingSample, write_sample
from humanvid.synth.backgrounds import BackgroundImages, load_bundled_images
from humanvid.synth.bodies import AnnyRig, load_anny
from humanvid.synth.facing import yaw_range_deg
from humanvid.synth.groundtruth import body_outside_fraction, to_camera_frame
from humanvid.synth.groundtruth_io import write_groundtruth
from humanvid.synth.occupancy import OccupancyRecipe, sample_occupancy_camera, save_occupancy
from humanvid.synth.person import Person, clothed_mesh, make_person
from humanvid.synth.poses import PoseSpace
from humanvid.synth.props import seat_box
from humanvid.synth.render import appearance_from_materials, render_view, sample_view
from humanvid.synth.rendering_io import write_rendering
from preprocessing.person import PersonDetector
from preprocessing.still import crop_still


@dataclass(frozen=True)
class SampleSettings:
    voxel: float = 0.004  # ground-truth grid [m]
    occupancy: OccupancyRecipe = field(default_factory=OccupancyRecipe)
    save_mesh: bool = True
    crop: bool = True  # run the real preprocessing (MediaPipe) on the render


@dataclass
class Generator:
    """What generating samples needs, loaded once per process: Anny, keypoints, backgrounds, MediaPipe."""

    rig: AnnyRig
    space: PoseSpace
    keypoints: "AnnyMediapipeKeypoints"
    images: BackgroundImages
    detector: PersonDetector | None = None  # still images; None: no crop

    @classmethod
    def load(cls, crop: bool = True) -> "Generator":
        rig = load_anny()
        detector = None
        if crop:
            detector = PersonDetector(video_mode=False, search_regions=False)  # one person per render
        return cls(rig, PoseSpace.from_rig(rig), AnnyMediapipeKeypoints.from_rig(rig), load_bundled_images(), detector)

    def close(self) -> None:
        if self.detector is not None:
            self.detector.close()


@dataclass
class AnnyMediapipeKeypoints:
    """MediaPipe's 33 landmarks from posed Anny vertices and bones (humanvid.body's mapping)."""

    native: object  # humanvid.body.anny_keypoints.AnnyKeypoints
    matrix: np.ndarray  # (33, K)
    weights: np.ndarray  # (33,) 0 where Anny has no such landmark

    @classmethod
    def from_rig(cls, rig: AnnyRig) -> "AnnyMediapipeKeypoints":
        body = rig.body
        return cls(body.keypoints, body.keypoint_matrix.numpy(), body.keypoint_weights.numpy())

    def __call__(self, vertices: np.ndarray, bone_poses: np.ndarray) -> np.ndarray:
        """(V, 3) posed vertices, (J, 4, 4) bone poses → (33, 3) landmarks, NaN where missing."""
        import torch

        with torch.no_grad():
            native = self.native(torch.from_numpy(vertices[None]), torch.from_numpy(bone_poses[None, :, :3, 3]))
        landmarks = self.matrix @ native[0].numpy()
        landmarks[self.weights <= 0] = np.nan
        return landmarks


def generate_sample(generator: Generator, seed: int, folder: str | Path,
                    settings: SampleSettings = SampleSettings()) -> dict:
    """Make sample ``seed`` and write it into ``folder``; returns its summary (also in sample.json)."""
    import trimesh

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    timings = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    person = make_person(generator.rig, generator.space, seed)
    mesh, grid = clothed_mesh(person, 0, settings.voxel)
    lap("ground_truth")

    view = sample_view(np.random.default_rng([seed, 1]), mesh.vertices, generator.images)
    camera = view.camera
    surface = trimesh.Trimesh(mesh.vertices, mesh.faces, vertex_normals=mesh.normals, process=False)
    prop = seat_for(generator.rig, person, mesh.vertices, seed)
    rendering = render_view(surface, appearance_from_materials(mesh.labels, mesh.texcoords, mesh.materials), view,
                            prop=prop)
    write_rendering(rendering, folder, "render")
    lap("render")

    world_to_camera = camera.world_to_camera
    points, inside = sample_occupancy_camera(mesh, grid, np.random.default_rng([seed, 2]), world_to_camera,
                                             settings.occupancy)
    save_occupancy(folder / "occupancy.npz", points, inside)
    lap("occupancy")

    keypoints_world = generator.keypoints(person.posed.vertices[0], person.posed.bone_poses[0])
    keypoints = to_camera_frame(keypoints_world, world_to_camera)
    _write_body(folder / "body.npz", person, keypoints, world_to_camera)
    if settings.save_mesh:
        write_groundtruth(folder / "mesh.npz", grid, world_to_camera)
    lap("write")

    detected = None
    if settings.crop and generator.detector is not None:
        detected = _write_training_sample(generator, folder, rendering.rgb, camera, keypoints, points, inside)
        lap("crop")

    vertices, faces = person.posed.vertices[0], person.posed.faces
    used = np.unique(faces)
    summary = {
        "seed": int(seed),
        "motion": person.motion,
        "garments": [g.kind if g.kind != "hair" else f"hair:{g.cut['style']}" for g in person.outfit.garments],
        "phenotype": [round(float(v), 4) for v in person.body.phenotype],
        "vertices": int(len(mesh.vertices)),
        "watertight": bool(surface.is_watertight),
        "body_outside": round(body_outside_fraction(grid, vertices[used], vertex_normals(vertices, faces)[used]), 5),
        "person_detected": detected,
        "prop": None if prop is None else "box",
        "timings": timings,
    }
    atomic.write_json(folder / "sample.json", summary)
    return summary


def generate_clip(generator: Generator, seed: int, folder: str | Path, frames: int = 48, motion: str | None = None,
                  settings: SampleSettings = SampleSettings()) -> dict:
    """Make clip ``seed`` (one person, one static camera, ``frames`` frames) and write it into ``folder``.

    Per frame NNNNNN: ``frames/NNNNNN.png`` (only the RGB frames: the folder is a video's image
    sequence), ``buffers/NNNNNN_{mask,depth,normals,labels}.png`` and ``NNNNNN_camera.json``
    (humanvid.synth.rendering_io), ``meshes/NNNNNN.npz`` (ground truth, humanvid.synth.groundtruth_io,
    if ``settings.save_mesh``) and ``occupancy/NNNNNN.npz``; ``body.npz`` holds the whole clip's pose
    and keypoints (T, 33, 3). Clips of the loose and turn families also record ``yaw_range_deg`` in
    clip.json: the range of the body's facing about the vertical over the clip
    (:func:`humanvid.synth.facing.yaw_range_deg`; :func:`~humanvid.synth.facing.clip_yaw_range_deg`
    computes it from any clip's body.npz).
    """
    import trimesh

    folder = Path(folder)
    started = time.perf_counter()
    person = make_person(generator.rig, generator.space, seed, frames=frames, motion=motion)
    everywhere = person.posed.vertices[:, ::8].reshape(-1, 3)
    view = sample_view(np.random.default_rng([seed, 1]), everywhere, generator.images)
    world_to_camera = view.camera.world_to_camera
    occupancy_rng = np.random.default_rng([seed, 2])
    watertight, outside, keypoints, landmarks = [], [], [], []
    for frame in range(frames):
        name = f"{frame:06d}"
        mesh, grid = clothed_mesh(person, frame, settings.voxel)
        surface = trimesh.Trimesh(mesh.vertices, mesh.faces, vertex_normals=mesh.normals, process=False)
        appearance = appearance_from_materials(mesh.labels, mesh.texcoords, mesh.materials)
        write_rendering(render_view(surface, appearance, view), folder / "buffers", name, folder / "frames")
        points, inside = sample_occupancy_camera(mesh, grid, occupancy_rng, world_to_camera, settings.occupancy)
        save_occupancy(folder / "occupancy" / f"{name}.npz", points, inside)
        if settings.save_mesh:
            write_groundtruth(folder / "meshes" / f"{name}.npz", grid, world_to_camera)
        vertices, faces = person.posed.vertices[frame], person.posed.faces
        used = np.unique(faces)
        watertight.append(bool(surface.is_watertight))
        outside.append(body_outside_fraction(grid, vertices[used], vertex_normals(vertices, faces)[used]))
        landmarks.append(generator.keypoints(vertices, person.posed.bone_poses[frame]))
        keypoints.append(to_camera_frame(landmarks[-1], world_to_camera))
    _write_body(folder / "body.npz", person, np.stack(keypoints), world_to_camera)
    summary = {
        "seed": int(seed),
        "motion": person.motion,
        "frames": int(frames),
        "garments": [g.kind if g.kind != "hair" else f"hair:{g.cut['style']}" for g in person.outfit.garments],
        "phenotype": [round(float(v), 4) for v in person.body.phenotype],
        "watertight": all(watertight),
        "body_outside_max": round(float(max(outside)), 5),
        "seconds": round(time.perf_counter() - started, 2),
    }
    if person.family != "standard":
        summary["yaw_range_deg"] = round(yaw_range_deg(np.stack(landmarks)), 1)
    atomic.write_json(folder / "clip.json", summary)
    return summary


def seat_for(rig: AnnyRig, person: Person, surface: np.ndarray, seed: int):
    """The box a sitting person sits on (humanvid.synth.props), None for other poses."""
    if person.motion != "sit" or person.frame_count != 1:
        return None
    labels = ("upperleg01.L", "upperleg01.R", "lowerleg01.L", "lowerleg01.R")
    heads = {label: person.posed.bone_poses[0, rig.bone(label), :3, 3] for label in labels}
    return seat_box(heads, surface, np.random.default_rng([seed, 3]))


def _write_body(path: Path, person: Person, keypoints: np.ndarray, world_to_camera: np.ndarray) -> None:
    atomic.write_npz(
        path,
        body_model=np.array("anny"),
        phenotype=np.asarray(person.body.phenotype, dtype=np.float64),
        pose=person.rotations.astype(np.float32),  # (T, J, 3) Anny local-ref axis-angles
        vertices=to_camera_frame(person.posed.vertices.reshape(-1, 3), world_to_camera)
        .reshape(person.posed.vertices.shape).astype(np.float32),  # (T, V, 3) body surface, camera frame
        faces=person.posed.faces.astype(np.int32),
        keypoints=keypoints.astype(np.float32),  # (33, 3) or (T, 33, 3) MediaPipe order, camera frame, NaN: missing
        world_to_camera=np.asarray(world_to_camera, dtype=np.float64),
    )


def _write_training_sample(generator: Generator, folder: Path, rgb: np.ndarray, camera, keypoints: np.ndarray,
                           points: np.ndarray, inside: np.ndarray) -> bool:
    """Crop the render with the real preprocessing and write the network's sample; False if nobody is found."""
    crop = crop_still(generator.detector, rgb)
    if crop is None:
        return False
    intrinsics = np.array([camera.fx, camera.fy, camera.cx, camera.cy])
    write_sample(folder, TrainingSample(crop.crop, crop.mask, intrinsics, crop.affine, keypoints, points, inside))
    return True
