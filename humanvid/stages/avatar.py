"""The mesh stage's canonical person: built once per video from keyframes, kept in avatar/, posed per frame."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import trimesh
from scipy.spatial import cKDTree

from humanvid.errors import HumanvidError
from humanvid.exchange.avatar import (MESHES_MATERIAL, SavedAvatar, canonical_path, read_avatar, write_avatar,
                                     write_meshes_material)
from humanvid.exchange.obj import read_obj, write_obj
from humanvid.exchange.run_folder import RunFolder
from humanvid.implicit.inference.avatar import KEYFRAMES, build_avatar, choose_keyframes, frame_view
from humanvid.implicit.inference.canonical import CanonicalSettings, RestBody, canonical_grid
from humanvid.implicit.inference.frame import FrameInputs, encode_frame, occupancy_function
from humanvid.implicit.inference.posing import Skin
from humanvid.implicit.inference.refine import Refiner, Silhouette, smoothed_over_time
from humanvid.implicit.inference.sequence import SequenceFrame
from humanvid.implicit.inference.skin_field import skin_field_for
from humanvid.implicit.inference.volume import COARSE_STEP
from humanvid.implicit.model.network import OccupancyNetwork
from humanvid.projection import crop_camera
from humanvid.stages.bodies import FittedBodies
from humanvid.texture.atlas import unwrap


@dataclass
class PosedAvatar:
    """The canonical person of a run and the bones of each of its frames."""

    saved: SavedAvatar
    hand_joints: np.ndarray  # (H,) the body model's hand bones (BodyModel.hand_joints)

    @property
    def keyframes(self) -> np.ndarray:
        return self.saved.keyframes

    def posed(self, row: int) -> np.ndarray:
        """(V, 3) the canonical mesh's vertices posed by the bones of frame `row` (its camera frame)."""
        return self.saved.skin.pose(np.asarray(self.saved.mesh.vertices), self.saved.bone_transforms[row])

    def frame_meshes(self, rows: list[int], available: list[int], load: Callable[[int], SequenceFrame],
                     network: OccupancyNetwork, device: str, timings: dict
                     ) -> Iterator[tuple[int, FrameInputs, trimesh.Trimesh]]:
        """(row, its inputs, its mesh) for each of `rows` in order: the canonical mesh posed by the row's
        bones and refined towards the evidence of the row and its neighbours in `available` (every row with
        a mesh), their occupancy and their masks (humanvid.implicit.inference.refine); the hands follow
        the mask's outline only, not the occupancy."""
        faces = np.asarray(self.saved.mesh.faces)
        refiner = Refiner(np.asarray(self.saved.mesh.vertices), faces, kept=self.saved.skin.share(self.hand_joints))
        wanted, pending = set(rows), {}

        def evidence_of(row: int) -> np.ndarray:
            inputs = load(row).inputs
            tick = time.perf_counter()
            posed = self.posed(row)
            evidence = refiner.evidence(posed, occupancy_function(network, encode_frame(network, inputs, device)))
            timings["network"] += time.perf_counter() - tick
            if row in wanted:
                pending[row] = inputs, posed
            return evidence

        for row, evidence in smoothed_over_time(rows, available, evidence_of):
            inputs, posed = pending.pop(row)
            silhouette = Silhouette.of(inputs.mask, crop_camera(inputs.intrinsics, inputs.affine))
            vertices = refiner.moved(posed, refiner.offsets(posed, evidence, silhouette))
            yield row, inputs, trimesh.Trimesh(vertices, faces, process=False)


def run_has_avatar(run: RunFolder) -> bool:
    return canonical_path(run).exists()


def make_avatar(run: RunFolder, frames: np.ndarray, available: list[int], bodies: FittedBodies,
                load: Callable[[int], SequenceFrame], network: OccupancyNetwork, settings, timings: dict) -> PosedAvatar:
    """The run's avatar: read from avatar/ when an earlier run of the same settings wrote it, else fused from
    the keyframes' evidence and written. `settings`: the stage's MeshSettings (resolution, device).
    Raises HumanvidError when the fused field holds no surface."""
    saved = read_avatar(run)
    if saved is None:
        rest, indices, weights, heads, transforms = bodies.rest_and_bones()
        keyframes = choose_keyframes(available, KEYFRAMES)
        tick = time.perf_counter()
        views = [frame_view(network, load(row).inputs, transforms[row], settings.resolution, settings.device)
                 for row in keyframes]
        timings["network"] += time.perf_counter() - tick
        tick = time.perf_counter()
        avatar = build_avatar(RestBody(rest, bodies.faces, indices, weights, bodies.model.hand_joints), views, transforms.shape[1],
                              settings.resolution)
        timings["fusion"] += time.perf_counter() - tick
        if not len(avatar.mesh.faces):
            raise HumanvidError(no_surface(np.asarray([frames[row] for row in keyframes])))
        tick = time.perf_counter()
        atlas = unwrap(avatar.mesh.vertices, avatar.mesh.faces)
        timings["atlas"] = timings.get("atlas", 0.0) + time.perf_counter() - tick
        saved = SavedAvatar(avatar.mesh, avatar.skin, tuple(bodies.model.joint_names),
                            np.asarray(bodies.model.joint_parents), heads, np.asarray(frames), transforms,
                            np.asarray([frames[row] for row in keyframes]), atlas)
        write_avatar(run, saved)
        saved = read_avatar(run)  # as a resumed run reads it (float32 on disk): both pose the same mesh
    write_meshes_material(run)
    return PosedAvatar(saved, bodies.model.hand_joints)


@torch.no_grad()
def write_own_avatar(run: RunFolder, frames: np.ndarray, row: int, bodies: FittedBodies) -> None:
    """A single image's avatar: its own mesh carried back into the rest pose (each vertex by the skinning of
    its nearest body vertex), so that the image's mesh is the canonical one posed."""
    mesh = read_obj(run.mesh_path(int(frames[row])))
    mesh = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    rest, indices, weights, heads, transforms = bodies.rest_and_bones()
    output = bodies.model(bodies.params.index([row]))
    posed_body = output.vertices[0].double().numpy()
    _, vertex = cKDTree(posed_body).query(np.asarray(mesh.vertices), workers=-1)
    vertex_transforms = output.vertex_transforms(torch.from_numpy(vertex))[0].double().numpy()  # (N, 4, 4)
    offsets = (np.asarray(mesh.vertices) - vertex_transforms[:, :3, 3])[..., None]
    rest_vertices = np.linalg.solve(vertex_transforms[:, :3, :3], offsets)[..., 0]
    grid = canonical_grid(RestBody(rest, bodies.faces, indices, weights), 64, COARSE_STEP, CanonicalSettings().margin)
    field = skin_field_for(rest, indices, weights, transforms.shape[1], grid)
    canonical = trimesh.Trimesh(rest_vertices, np.asarray(mesh.faces), process=False)
    saved = SavedAvatar(canonical, Skin.of(rest_vertices, field), tuple(bodies.model.joint_names),
                        np.asarray(bodies.model.joint_parents), heads, np.asarray(frames), transforms,
                        np.asarray([frames[row]]), unwrap(rest_vertices, np.asarray(mesh.faces)))
    write_meshes_material(run)
    write_obj(run.mesh_path(int(frames[row])), mesh.vertices, mesh.faces, topology=saved.topology(MESHES_MATERIAL))
    write_avatar(run, saved)


def no_surface(frames: np.ndarray) -> str:
    """The one-line error of a run whose frames all came out without a surface."""
    which = f"frame {int(frames[0])}" if len(frames) == 1 else f"any of {len(frames)} frames"
    return (f"no surface found for {which}: the network saw nothing inside the person mask where the body was "
            "fitted (is the person mostly hidden or cut by the frame?)")
