"""A video's avatar: one canonical clothed mesh in the body's rest pose, with its skin.

The network's field of a few keyframes, spread over the video, is carried into the rest pose and
fused (humanvid.implicit.inference.canonical); the fused field is meshed once; the mesh's skinning
weights are those of the space around the body (humanvid.implicit.inference.skin_field). Every frame's mesh is then this mesh
posed by that frame's bones: one topology for the whole video.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from humanvid.implicit.inference.canonical import (CanonicalSettings, RestBody, View, canonical_grid,
                                                   canonical_occupancy, outside_distance, within_reach)
from humanvid.implicit.inference.frame import FrameInputs, encode_frame, occupancy_function
from humanvid.implicit.inference.fusion import VolumeField
from humanvid.implicit.inference.meshing import evaluate_coarse_to_fine, extract_surface
from humanvid.implicit.inference.posing import Skin
from humanvid.implicit.inference.skin_field import skin_field_for
from humanvid.implicit.inference.volume import COARSE_STEP, frame_grid, frame_volume
from humanvid.implicit.model.network import OccupancyNetwork
from humanvid.projection import crop_camera

KEYFRAMES = 16  # frames whose fields are fused into the canonical shape


@dataclass
class Avatar:
    """The canonical clothed person of a video."""

    mesh: trimesh.Trimesh  # watertight, rest space [m]
    skin: Skin  # bone weights of its vertices

    def posed(self, bone_transforms: np.ndarray) -> np.ndarray:
        """(V, 3) the mesh's vertices posed by (J, 4, 4) rest → posed bone transforms."""
        return self.skin.pose(np.asarray(self.mesh.vertices), bone_transforms)


def choose_keyframes(available: list[int], count: int = KEYFRAMES) -> list[int]:
    """At most `count` of the rows with a person, spread evenly over the video (first and last included)."""
    if len(available) <= count:
        return list(available)
    picks = np.round(np.linspace(0, len(available) - 1, count)).astype(int)
    return [available[i] for i in sorted(set(picks.tolist()))]


def frame_view(network: OccupancyNetwork, inputs: FrameInputs, bone_transforms: np.ndarray, resolution: int,
               device: str = "cpu") -> View:
    """One keyframe's evidence: its network field (visual hull only), bones, crop camera and mask distances."""
    grid = frame_grid(inputs, resolution)
    occupancy = occupancy_function(network, encode_frame(network, inputs, device))
    field = VolumeField.cropped(frame_volume(occupancy, inputs, grid), grid)
    return View(field, np.asarray(bone_transforms, np.float64), crop_camera(inputs.intrinsics, inputs.affine),
                outside_distance(inputs.mask))


def build_avatar(rest: RestBody, views: list[View], joints: int, resolution: int = 256,
                 settings: CanonicalSettings = CanonicalSettings()) -> Avatar:
    """The canonical mesh fused from `views` (in the rest space of `rest`) and its skin over `joints` bones."""
    grid = canonical_grid(rest, resolution, COARSE_STEP, settings.margin)
    field = skin_field_for(rest.vertices, rest.bone_indices, rest.bone_weights, joints, grid)
    volume, _ = evaluate_coarse_to_fine(canonical_occupancy(rest, field, views, settings), grid, COARSE_STEP,
                                        keep=within_reach(rest, settings.reach))
    mesh = extract_surface(volume, grid)
    return Avatar(mesh, Skin.of(np.asarray(mesh.vertices), field))
