"""Several synthetic clothed people in one render, and which pixels are whose (tests of who is followed).

A :class:`Group` places people (each a seed of :func:`humanvid.synth.person.make_person`)
on one floor and looks at them through a :class:`Shot`: a level camera of the video
camera ``humanvid reconstruct`` assumes (55° vertical field of view, unless given), so
the meshes it writes overlay the render through its ``camera.json``. The scene's world
is Anny's (metres, z up); the camera stands on the −y side looking along +y, so a
person's ``x`` is across the view (+ to the right) and ``depth`` away from the camera.

:func:`render_group` ray casts all the people as one mesh (they hide each other), and
gives each person's own pixels in the render (``visible``) and the pixels they would
cover alone (``whole``), so a test can tell the followed person's pixels from anyone
else's. Everything is a pure function of the seeds: the same scene on every machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import trimesh

from humanvid.camera import Camera, look_at
from humanvid.render.raycast import cast
from humanvid.synth.backgrounds import random_background
from humanvid.synth.bodies import AnnyRig
from humanvid.synth.groundtruth import ClothedMesh
from humanvid.synth.person import clothed_mesh, make_person
from humanvid.synth.poses import PoseSpace
from humanvid.synth.render import appearance_from_materials, render
from humanvid.synth.shading import random_lighting


@dataclass(frozen=True)
class Spot:
    """One person of a group: who (a person seed and pose kind) and where they stand on the floor."""

    seed: int
    x: float = 0.0  # [m] across the view, + to the camera's right
    depth: float = 0.0  # [m] along the view, + away from the camera
    turn_deg: float = 0.0  # about the vertical, counter-clockwise seen from above; 0: facing the camera
    motion: str | None = "stand"  # a pose kind (humanvid.synth.poses.POSE_KINDS); None: the seed's own


@dataclass(frozen=True)
class Shot:
    """A level camera in front of the group, looking along +y."""

    width: int = 1280
    height: int = 720
    distance: float = 4.0  # [m] from the camera to the floor's origin, along the view
    camera_height: float = 1.1  # [m] above the floor
    aim_height: float = 0.9  # [m] above the floor's origin: the point the camera looks at
    aim_x: float = 0.0  # [m] across the view
    vertical_fov_deg: float | None = None  # None: humanvid's default for a video of unknown lens (55°)

    def camera(self) -> Camera:
        focal = None
        if self.vertical_fov_deg is not None:
            focal = 0.5 * self.height / math.tan(math.radians(self.vertical_fov_deg) / 2.0)
        intrinsics = Camera.for_frame(self.width, self.height, focal)
        eye = np.array([self.aim_x, -self.distance, self.camera_height])
        return intrinsics.with_world_to_camera(look_at(eye, (self.aim_x, 0.0, self.aim_height)))


@dataclass(frozen=True)
class Group:
    """People on one floor, seen in one shot. ``main``: the index of the person the scene is composed around
    (whole in the frame, the largest and most central), whom the pipeline should follow."""

    spots: tuple[Spot, ...]
    shot: Shot = Shot()
    main: int = 0
    background_seed: int = 0  # the backdrop, floor and light (humanvid.synth.backgrounds, .shading)


@dataclass
class GroupRendering:
    """One render of a group. Person k's pixels: ``visible[k]`` in this render (where nobody in front hides
    them), ``whole[k]`` if they stood there alone; ``meshes[k]`` their ground-truth surface (world frame)."""

    rgb: np.ndarray  # (H, W, 3) uint8
    visible: np.ndarray  # (K, H, W) bool, disjoint
    whole: np.ndarray  # (K, H, W) bool, visible[k] ⊆ whole[k]
    camera: Camera  # its world_to_camera maps the scene's world to the OpenGL camera frame
    meshes: list[ClothedMesh]
    main: int

    @property
    def people(self) -> int:
        return len(self.meshes)

    def only(self, k: int) -> np.ndarray:
        """(H, W) bool: person k's visible pixels that nobody else would cover alone (theirs beyond doubt)."""
        others = np.logical_or.reduce([w for i, w in enumerate(self.whole) if i != k])
        return self.visible[k] & ~others


def place(mesh: ClothedMesh, spot: Spot) -> ClothedMesh:
    """`mesh` turned about the vertical through its centre by ``spot.turn_deg`` and moved so that centre
    stands at (spot.x, spot.depth) on the floor (z = 0 stays the floor)."""
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    centre = 0.5 * (vertices[:, :2].min(axis=0) + vertices[:, :2].max(axis=0))
    angle = math.radians(spot.turn_deg)
    rotation = np.array([[math.cos(angle), -math.sin(angle), 0.0], [math.sin(angle), math.cos(angle), 0.0],
                         [0.0, 0.0, 1.0]])
    moved = (vertices - [centre[0], centre[1], 0.0]) @ rotation.T + [spot.x, spot.depth, 0.0]
    return ClothedMesh(moved, mesh.faces, np.asarray(mesh.normals) @ rotation.T, mesh.labels, mesh.colors,
                       mesh.texcoords, mesh.materials)


def group_meshes(rig: AnnyRig, space: PoseSpace, group: Group, voxel: float = 0.006) -> list[ClothedMesh]:
    """Each person's watertight clothed surface, placed on their spot."""
    meshes = []
    for spot in group.spots:
        person = make_person(rig, space, spot.seed, motion=spot.motion)
        meshes.append(place(clothed_mesh(person, 0, voxel)[0], spot))
    return meshes


def render_group(meshes: list[ClothedMesh], group: Group, noise: float = 1.0) -> GroupRendering:
    """Render placed ``meshes`` (group_meshes) together as ``group.shot`` sees them, over a backdrop and floor
    drawn from ``group.background_seed``, with ``noise`` grey levels of Gaussian sensor noise."""
    camera = group.shot.camera()
    rng = np.random.default_rng([group.background_seed, 7])
    lighting_rng, background_rng, noise_rng = rng.spawn(3)
    feet = np.concatenate([m.vertices[m.vertices[:, 2] < 0.06] for m in meshes])
    background = random_background(background_rng, camera.width, camera.height, None, camera, 0.0,
                                   contact_points=feet)
    scene, appearance, first_label = _one_mesh(meshes)
    rendering = render(scene, camera, appearance, random_lighting(lighting_rng), background)
    labels = rendering.labels
    visible = np.stack([(labels >= first_label[k]) & (labels < first_label[k + 1]) for k in range(len(meshes))])
    whole = np.stack([cast(trimesh.Trimesh(m.vertices, m.faces, process=False), camera).face >= 0 for m in meshes])
    rgb = rendering.rgb
    if noise > 0:
        grain = noise_rng.standard_normal(size=rgb.shape) * noise
        rgb = np.clip(rgb + grain + 0.5, 0, 255).astype(np.uint8)
    return GroupRendering(rgb, visible, whole | visible, camera, meshes, group.main)


def make_group(rig: AnnyRig, space: PoseSpace, group: Group, voxel: float = 0.006) -> GroupRendering:
    """The people of ``group`` made, placed and rendered together."""
    return render_group(group_meshes(rig, space, group, voxel), group)


def _one_mesh(meshes: list[ClothedMesh]) -> tuple[trimesh.Trimesh, object, np.ndarray]:
    """All people as one mesh to ray cast, their appearance (each person's materials renumbered after the
    previous people's), and (K + 1,) the first label of each person and one past the last."""
    offsets = np.cumsum([0, *(len(m.vertices) for m in meshes)])
    first_label = np.cumsum([0, *(len(m.materials) for m in meshes)])
    vertices = np.concatenate([m.vertices for m in meshes])
    faces = np.concatenate([np.asarray(m.faces) + offset for m, offset in zip(meshes, offsets)])
    normals = np.concatenate([m.normals for m in meshes])
    labels = np.concatenate([np.asarray(m.labels, np.int64) + first for m, first in zip(meshes, first_label)])
    texcoords = np.concatenate([m.texcoords for m in meshes])
    materials = [material for m in meshes for material in m.materials]
    scene = trimesh.Trimesh(vertices, faces, vertex_normals=normals, process=False)
    return scene, appearance_from_materials(labels, texcoords, materials), first_label
