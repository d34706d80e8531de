"""Geometry of loose garments beyond plain shells and straight-hanging tubes.

- :func:`hem_hang`: how a hanging hem (skirt, dress, long coat) moves in a clip. The hem
  follows the hips' horizontal path and the body's facing through a damped spring (about
  0.9 Hz, like cloth a metre long), so it trails a walking body, swings when it stops or
  turns, twists behind a turn and flares while the body spins; a still hangs straight.
- :func:`hood_up_solid`: a hood worn up, a shell over the head and neck that swells out
  to a rounded volume over the head and comes down to the skin round the open face.
- :func:`quilting`: the channels of a puffer jacket, a thickness factor along the body and arms.
- :func:`wide_leg_solids`: wide trouser legs, a flared tube around each shin from about the knee
  down to the hem, along the shin (so it follows a bent knee).

Everything is computed from the posed body (Anny's world frame, z up, metres) and the
rest-pose region coordinates of :mod:`humanvid.synth.regions`, so it moves with the body.
"""

from __future__ import annotations

import numpy as np

from humanvid.synth.bodies import PosedBody
from humanvid.synth.hair import head_centre
from humanvid.synth.regions import BodyRegions
from humanvid.synth.shells import offset_shell, posed_bone_index, shell_surface, stack_thickness, swell
from humanvid.synth.skirts import Hang, loft_tube, polar_radius
from humanvid.synth.solids import LAYERS, Garment, Solid

FPS = 24.0  # clip frame rate (humanvid.synth.poses)
SWING_HZ, SWING_DAMPING = 0.9, 0.3
MAX_SWING, MAX_SPIN = 0.1, 0.6  # [m], [rad]
HOOD_UP_LAYER = LAYERS["hair"] + 0.5  # a raised hood covers the hair under it


def _hips(regions: BodyRegions) -> np.ndarray:
    """(V,) bool: trunk vertices between the hip joints and the waist (rest pose)."""
    r, j = regions, regions.joints
    z = r.rest[:, 2]
    return (r.leg < 0.5) & (r.arm < 0.5) & (r.head < 0.5) & (z >= j["hip"][2] - 0.03) & (z <= j["waist"][2])


def body_front(regions: BodyRegions, vertices: np.ndarray) -> np.ndarray:
    """(T,) facing direction [rad, atan2(y, x)] of the hips in posed vertices (T, V, 3) or (V, 3)."""
    vertices = np.asarray(vertices).reshape(-1, *regions.rest.shape)
    hips = _hips(regions)
    left = vertices[:, hips & (regions.side > 0)].mean(axis=1) - vertices[:, hips & (regions.side < 0)].mean(axis=1)
    return np.unwrap(np.arctan2(-left[:, 0], left[:, 1]))  # forward = left × up


def _spring(target: np.ndarray, fps: float, substeps: int = 8) -> np.ndarray:
    """(T, K) a damped spring's path following ``target`` (T, K), starting in its steady state."""
    omega, damping = 2 * np.pi * SWING_HZ, SWING_DAMPING
    velocity = (target[1] - target[0]) * fps if len(target) > 1 else np.zeros(target.shape[1])
    position = target[0] - 2 * damping / omega * velocity
    path = [position]
    h = 1.0 / (fps * substeps)
    for frame in range(1, len(target)):
        for step in range(substeps):
            goal = target[frame - 1] + (step + 1) / substeps * (target[frame] - target[frame - 1])
            velocity = velocity + h * (omega * omega * (goal - position) - 2 * damping * omega * velocity)
            position = position + h * velocity
        path.append(position)
    return np.stack(path)


def hem_hang(regions: BodyRegions, posed: PosedBody, frame: int, fps: float = FPS) -> Hang:
    """The :class:`Hang` of a hanging hem in one frame of a posed clip (T = 1: hanging straight)."""
    front = body_front(regions, posed.vertices)
    if posed.frame_count == 1:
        return Hang(np.zeros(2), front=float(front[0]))
    centre = posed.vertices[:, _hips(regions), :2].mean(axis=1)  # (T, 2)
    follower = _spring(np.concatenate([centre, front[:, None]], axis=1), fps)
    swing = follower[frame, :2] - centre[frame]
    swing = swing * min(1.0, MAX_SWING / max(float(np.linalg.norm(swing)), 1e-9))
    spin = float(np.clip(follower[frame, 2] - front[frame], -MAX_SPIN, MAX_SPIN))
    rate = float(np.gradient(front)[frame] * fps)  # rad/s
    return Hang(swing, spin, 1.0 + min(0.1 * rate * rate, 0.6), float(front[frame]))


def hood_up_solid(garment: Garment, regions: BodyRegions, posed: PosedBody, frame: int, normals: np.ndarray,
                  under: np.ndarray) -> Solid:
    """A raised hood: a shell over the head, neck and nape, open round the face, clearing ``under`` (V,).

    Over the head the cloth stands out to a rounded volume (an ellipsoid carried by the head,
    longer towards the back), so the hood is baggy rather than the head's shape; round the
    face opening it comes down to the skin.
    """
    r, j = regions, regions.joints
    centre = head_centre(regions)
    q = r.rest - centre
    around = np.minimum(r.rest[:, 2] - (j["neck"][2] - 0.04), (0.5 - r.arm) * 0.05)
    # The face opening: an oval on the front of the head, from the brow to under the chin.
    oval = np.sqrt((q[:, 0] / 0.07) ** 2 + ((q[:, 2] + 0.035) / 0.095) ** 2)
    face = np.where(q[:, 1] < 0.0, (oval - 1.0) * 0.07 - 0.01 * np.clip(-q[:, 1] / 0.05, 0.0, 1.0), 1.0)
    margin = np.minimum(around, face)
    amount = np.clip(0.5 + margin / 0.015, 0.0, 1.0)
    cloth = garment.cut.get("hood_thickness", 0.03)
    thickness = stack_thickness(np.where(amount > 0.05, amount * cloth, -0.0015), under)
    shell = offset_shell(posed.vertices[frame], normals, thickness, regions, 0.9)
    transform = posed.bone_transform(posed_bone_index(posed, regions, "head"))[frame]
    weight = np.where((thickness > 0) & (r.head > 0.3), amount, 0.0)
    shell = swell(shell, weight, centre + [0.0, 0.03, 0.015], np.array([0.09, 0.11, 0.125]) + cloth, transform)
    return Solid(shell, posed.faces, HOOD_UP_LAYER, garment.material,
                 surface=shell_surface(shell, posed.faces, thickness), coverage=margin)


def quilting(regions: BodyRegions, spacing: float) -> np.ndarray:
    """(V,) thickness factor in [0.55, 1] of a puffer's channels, ``spacing`` [m] apart along the body and arms."""
    j = regions.joints
    upper_arm = np.linalg.norm(j["elbow"] - j["shoulder"])
    along = (1.0 - regions.arm) * regions.rest[:, 2] + regions.arm * regions.arm_coord * upper_arm
    return 0.55 + 0.45 * np.sqrt(np.abs(np.sin(np.pi * along / spacing)))


def wide_leg_solids(garment: Garment, regions: BodyRegions, vertices: np.ndarray, step: float = 0.01,
                    sides: int = 96) -> list[Solid]:
    """Two flared tubes, one round each shin, from leg coordinate ``cut["from"]`` to the hem ``cut["leg"]``.

    Each slice across the shin takes the convex hull of the leg so far (the tube never narrows
    downwards), pushed out by the cloth's thickness plus a flare that grows to ``cut["flare"]`` [m]
    at the hem.
    """
    from scipy.spatial import ConvexHull

    r, cut = regions, garment.cut
    start, end = cut.get("from", 0.9), min(cut.get("leg", 2.0), 2.0)
    angles = np.linspace(0.0, 2 * np.pi, sides, endpoint=False)
    solids = []
    for side in (1.0, -1.0):
        leg = (r.leg >= 0.5) & (r.side == side) & (r.foot < 0.5)
        points = vertices[leg & (r.leg_coord >= start) & (r.leg_coord <= end)]
        top = vertices[leg & (np.abs(r.leg_coord - start) < 0.05)].mean(axis=0)
        bottom = vertices[leg & (np.abs(r.leg_coord - end) < 0.05)].mean(axis=0)
        axis = bottom - top
        length = float(np.linalg.norm(axis))
        axis /= length
        e1 = np.cross(axis, [1.0, 0.0, 0.0] if abs(axis[0]) < 0.9 else [0.0, 1.0, 0.0])
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(axis, e1)
        along = (points - top) @ axis
        flat = np.stack([(points - top) @ e1, (points - top) @ e2], axis=1)
        stations = np.arange(0.0, length + 0.5 * step, step)
        hull = flat[np.abs(along) < step]
        hull = hull if len(hull) >= 3 else flat[np.argsort(np.abs(along))[:8]]
        centre = hull.mean(axis=0)
        directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        rings = []
        for s in stations:
            hull = np.concatenate([hull, flat[np.abs(along - s) < 0.5 * step]])
            hull = hull[ConvexHull(hull).vertices]
            offset = np.full(sides, garment.thickness + cut.get("flare", 0.05) * (s / length) ** 1.5)
            radius = polar_radius(hull, centre, directions, offset)
            ring2 = centre + radius[:, None] * directions
            rings.append(top + s * axis + ring2[:, :1] * e1 + ring2[:, 1:] * e2)
        rings = np.stack(rings)
        tube, faces = loft_tube(rings)
        solids.append(Solid(tube, faces, garment.layer, garment.material, surface=rings.reshape(-1, 3)))
    return solids
