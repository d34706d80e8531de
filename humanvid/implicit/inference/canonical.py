"""One clothed person per video: the frames' occupancy carried into the body's rest pose and fused.

Canonical space is the fitted body's rest space (BodyOutput.rest_vertices; the bone transforms map it
into each frame's camera frame). A canonical point moves with the skinning weights of the space around
the body (humanvid.implicit.inference.skin_field): posed into frame t by the blend of that frame's bone
transforms. Each view's evidence about the point:

- occupancy: the network's field of that frame (a VolumeField, camera frame) at the posed point,
  trusted by how squarely the view sees the point (its body normal against the ray to the camera):
  a view sees the surface facing it; the depth behind the visible surface is the network's guess.
  A view whose pose squeezes the point against the body (the space between an arm and the torso, shut
  when the arm hangs down: its posed distance to the body below `squeezed` times its rest distance) is
  barely trusted (`squeezed_weight`): there it sees the body, not the point, which would otherwise
  become a web between the limbs wherever they part;
- silhouette: where the posed point projects more than `carve_margin` crop pixels outside the frame's
  person mask, that view sees empty space there. A point so seen by more than `carve_fraction` of the
  views that see it in their crop is carved away (the fit's own errors move single views by a few
  pixels, so one view alone does not carve);
- distance: nothing farther than `reach` from the rest body is occupied, and the occupancy fades from
  `fade` to `reach` (a depth excursion far from the body must not be left by an unconstrained guess);
- hands: inside the rest body's hands the occupancy is at least the body's own (a hand is a few
  centimetres thick, finer than the network resolves and posed differently in every frame, so the
  views' average loses it), where the views agree: the body's hand is a guess, so a point of it that
  more than `carve_fraction` of the views see outside the mask by `hand_margin` is not taken.

With one view, or with views that agree, the fused field is that view's field carried into the rest
pose: a static scene gives the shape of one frame.

Design note: the squeeze term (squeezed 0.5–0.9 from 2 cm) lowers the aligned Chamfer of 4 validation
clips from 1.986 to 1.972 cm and raises tennis.mp4's mask IoU from 0.881 to 0.886 (the web under the
raised arm of a serve); (0.3, 0.7) from 3 cm gave 1.984 cm, (0.7, 1.0) from 1.5 cm 1.973 cm.
The hands halve the tennis.mp4 frames whose left arm is not whole in the mesh (108 → 54 of 312); the
per-frame refinement leaves them alone (humanvid.implicit.inference.refine), or they flicker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from humanvid.constants import CARRY_STRIDE
from humanvid.geometry.body_distance import BodySurface
from humanvid.implicit.inference.fusion import VolumeField, moved
from humanvid.implicit.inference.meshing import Grid, KeepFn, OccupancyFn, grid_around
from humanvid.implicit.inference.posing import bone_share
from humanvid.implicit.inference.skin_field import SkinField
from humanvid.projection import project



@dataclass(frozen=True)
class CanonicalSettings:
    carve_margin: float = 12.0  # crop px outside the person mask beyond which a view sees empty space
    carve_fraction: float = 0.25  # share of the views seeing a point that must see it empty to carve it
    back_weight: float = 0.15  # trust in a view's occupancy of surfaces facing away from it (facing it: 1)
    fade: float = 0.12  # metres from the rest body where the occupancy starts to fade
    reach: float = 0.25  # metres from the rest body beyond which nothing is occupied
    margin: float = 0.25  # metres around the rest body's box that the canonical lattice covers
    hand_ramp: float = 0.01  # metres inside the rest body's hand surface over which its occupancy goes 0.5 → 1
    hand_margin: float = 3.0  # crop px outside the person mask beyond which a view sees no hand there
    squeeze_from: float = 0.02  # metres from the rest body beyond which a point may be squeezed by a pose
    squeezed: tuple[float, float] = (0.5, 0.9)  # posed / rest distance to the body: no trust → full trust
    squeezed_weight: float = 0.05  # trust left to a view that squeezes a point against the body


@dataclass
class RestBody:
    """The fitted body in its rest pose."""

    vertices: np.ndarray  # (V, 3) rest space [m]
    faces: np.ndarray  # (F, 3)
    bone_indices: np.ndarray  # (V, K) int64
    bone_weights: np.ndarray  # (V, K), rows summing to 1
    hand_joints: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (H,) the hands' bones

    def __post_init__(self):
        self.surface = BodySurface(self.vertices, self.faces)
        self.carriers = np.arange(0, len(self.vertices), CARRY_STRIDE)
        self.normals = self.surface.normals[self.carriers]
        self.tree = cKDTree(self.vertices[self.carriers])
        in_hand = bone_share(self.bone_indices, self.bone_weights, self.hand_joints) > 0.5
        self.hand = in_hand[self.carriers]  # (C,) carriers on a hand

    def nearest(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 3) rest-space points → (N,) distance [m] to their nearest carrier and its (N,) index."""
        return self.tree.query(points, workers=-1)

    def hand_occupancy(self, points: np.ndarray, nearest: np.ndarray, ramp: float) -> np.ndarray:
        """(N,) the rest body's own occupancy at points whose nearest carrier is on a hand (0 elsewhere):
        0.5 on its surface, 1 from `ramp` [m] inside. nearest: (N,) their nearest carriers."""
        occupancy = np.zeros(len(points))
        near_hand = self.hand[nearest]
        if near_hand.any():
            depth = -self.surface.signed_distance(points[near_hand], near=0.05)
            occupancy[near_hand] = np.clip(0.5 + 0.5 * depth / ramp, 0.0, 1.0)
        return occupancy


@dataclass
class View:
    """One frame's evidence about the person, in its own camera frame."""

    field: VolumeField  # the network's occupancy of the frame (zero outside its visual hull)
    bone_transforms: np.ndarray  # (J, 4, 4) rest → this frame's camera frame
    camera: np.ndarray  # (3, 3) crop camera (humanvid.projection)
    outside: np.ndarray  # (S, S) float32 crop px from each pixel to the person mask (0 inside it)


def outside_distance(mask: np.ndarray) -> np.ndarray:
    """(S, S) uint8 person mask → (S, S) float32 distance [px] of each pixel to the nearest mask pixel."""
    person = mask > 127
    if not person.any():
        return np.full(mask.shape, np.inf, np.float32)
    return ndimage.distance_transform_edt(~person).astype(np.float32)


def canonical_occupancy(rest: RestBody, skin: SkinField, views: list[View],
                        settings: CanonicalSettings = CanonicalSettings()) -> OccupancyFn:
    """(N, 3) rest-space points → (N,) fused occupancy in [0, 1]."""
    moves = [skin.transforms(view.bone_transforms) for view in views]
    rest_carriers = rest.vertices[rest.carriers].astype(np.float32)
    bodies = [cKDTree(moved(rest_carriers, move(rest_carriers))) for move in moves]

    def occupancy(points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, np.float32)
        distance, nearest = rest.nearest(points)
        total = np.zeros(len(points))
        trust = np.zeros(len(points))
        seeing = np.zeros(len(points))
        carving = np.zeros(len(points))
        no_hand = np.zeros(len(points))
        away = distance > settings.squeeze_from
        for view, move, body in zip(views, moves, bodies):
            maps = move(points)  # (N, 3, 4)
            posed = moved(points, maps)
            room = np.ones(len(points))
            if away.any():
                low, high = settings.squeezed
                ratio = body.query(posed[away], workers=-1)[0] / distance[away]
                room[away] = np.clip((ratio - low) / (high - low), 0.0, 1.0)
            pixels = project(posed, view.camera)
            size = view.outside.shape[0]
            columns, rows = np.round(pixels[:, 0]).astype(np.int64), np.round(pixels[:, 1]).astype(np.int64)
            in_crop = (columns >= 0) & (columns < size) & (rows >= 0) & (rows < size) & (posed[:, 2] < 0)
            outside = np.zeros(len(points), np.float32)
            outside[in_crop] = view.outside[rows[in_crop], columns[in_crop]]
            normals = np.einsum("nij,nj->ni", maps[:, :, :3], rest.normals[nearest])
            facing = -np.einsum("ni,ni->n", normals, posed) / np.maximum(
                np.linalg.norm(normals, axis=1) * np.linalg.norm(posed, axis=1), 1e-9)
            weight = in_crop * (settings.back_weight + (1.0 - settings.back_weight) * np.clip(facing, 0.0, 1.0))
            weight *= settings.squeezed_weight + (1.0 - settings.squeezed_weight) * room
            total += weight * view.field(posed)
            trust += weight
            seeing += in_crop
            carving += in_crop & (outside > settings.carve_margin)
            no_hand += in_crop & (outside > settings.hand_margin)
        fused = np.where(trust > 0, total / np.maximum(trust, 1e-12), 0.0)
        hand = rest.hand_occupancy(points, nearest, settings.hand_ramp)
        hand[no_hand > settings.carve_fraction * seeing] = 0.0
        fused = np.maximum(fused, hand)
        fused[carving > settings.carve_fraction * seeing] = 0.0
        fade = np.clip((settings.reach - distance) / (settings.reach - settings.fade), 0.0, 1.0)
        return (fused * fade).astype(np.float32)

    return occupancy


def within_reach(rest: RestBody, reach: float) -> KeepFn:
    """Rest-space points closer than `reach` [m] to the rest body: the only ones that may be occupied."""
    def keep(points: np.ndarray) -> np.ndarray:
        return rest.nearest(points)[0] < reach

    return keep


def canonical_grid(rest: RestBody, resolution: int, coarse_step: int, margin: float) -> Grid:
    """The rest-space lattice: the rest body's box grown by `margin` [m], `resolution` cells along its
    longest side."""
    return grid_around(rest.vertices.min(axis=0) - margin, rest.vertices.max(axis=0) + margin, resolution,
                       coarse_step)
