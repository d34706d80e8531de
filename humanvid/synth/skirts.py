"""Skirts, and the skirts of dresses and long coats: closed tubes hanging from the hips.

Per horizontal slice of the posed body, the convex hull of the covered part (hips and
thighs) accumulated from the waistband downwards (so the tube never narrows and
bridges the legs), widened by the cloth's thickness plus a flare that grows with the
drop (with optional pleats and a slow sway), then lofted into a closed tube with flat
caps. Below the thighs the cloth hangs straight on to the hem, whose rest-pose height
comes from the garment's length. Everything is computed from the posed vertices of one
frame, so the tube follows the body through a clip.

Loose garments (``humanvid.synth.loose``) set more of the cut: ``max_flare`` (how far the
hem may stand out), ``cover`` (how far down the legs shape the tube, in leg coordinates:
long skirts go round the shins too, and stop above the floor) and ``gap`` (an open front,
radians at the waistband: the tube becomes a C-shaped band, like an open coat); and they
get a :class:`Hang` per frame (``humanvid.synth.drape``): the hem's swing and spin in a
clip, and where the body's front is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humanvid.synth.regions import BodyRegions
from humanvid.synth.solids import Garment, Solid

MAX_FLARE = 0.2  # a hem stands at most this far further out than the hips [m] (unless the cut says otherwise)
FLOOR_CLEARANCE = 0.01  # long hems (cuts with ``cover``) stop this far above the floor, z = 0 [m]
MAX_GAP = 2.6  # widest opening of an open front [rad]


@dataclass(frozen=True)
class Hang:
    """How a loose hanging garment moves in one frame, and where the body's front is.

    swing: (2,) horizontal offset [m] of the hem from hanging straight down (it trails a moving
    body); spin: twist [rad] of the hem behind the body's turning; flare: ≥ 1, widening of the
    flare from turning; front: the body's facing direction about the vertical [rad, atan2 of (y, x)].
    """

    swing: np.ndarray
    spin: float = 0.0
    flare: float = 1.0
    front: float = -np.pi / 2


def skirt_cover(garment: Garment, regions: BodyRegions) -> np.ndarray:
    """(V,) bool: body vertices the hanging part of a skirt, dress or coat goes around."""
    r, j = regions, regions.joints
    waist = j["hip"][2] + garment.cut.get("waist", 0.1)
    hips = (r.leg < 0.5) & (r.arm < 0.5) & (r.head < 0.5) & (r.rest[:, 2] <= waist) & (r.rest[:, 2] > j["knee"][2])
    # Below the knee the cloth hangs free (see _skirt_solid): only the thighs shape the tube.
    legs = (r.leg >= 0.5) & (r.leg_coord <= min(garment.cut.get("length", 1.0), garment.cut.get("cover", 0.95)))
    return hips | legs


def skirt_drop(garment: Garment, regions: BodyRegions) -> float:
    """Rest-pose height [m] from the waistband down to the hem."""
    j = regions.joints
    length = garment.cut.get("length", 1.0)
    waist = j["hip"][2] + garment.cut.get("waist", 0.1)
    if length <= 1.0:
        hem = j["hip"][2] + length * (j["knee"][2] - j["hip"][2])
    else:
        hem = j["knee"][2] + (length - 1.0) * (j["ankle"][2] - j["knee"][2])
    return float(waist - hem)


def skirt_solid(garment: Garment, regions: BodyRegions, vertices: np.ndarray, step: float = 0.008,
                sides: int = 160, hang: Hang | None = None) -> Solid:
    """The hanging tube of a skirt (or of a dress or coat) around one posed frame.

    hang: the frame's swing, spin and front (loose garments); None hangs the cloth straight.
    """
    from scipy.spatial import ConvexHull

    cut = garment.cut
    points = vertices[skirt_cover(garment, regions)]
    top, bottom = points[:, 2].max(), points[:, 2].min()
    slack = 0.02 + 0.05 * cut.get("flare", 0.1)  # the hem hangs a little below the covered body
    hem = min(bottom - slack, top - skirt_drop(garment, regions))
    if "cover" in cut:
        hem = max(hem, min(FLOOR_CLEARANCE, top - 0.1))
    heights = np.arange(top, hem - step, -step)
    band = points[points[:, 2] >= top - 0.03, :2]
    centre = band.mean(axis=0)
    angles = np.linspace(0.0, 2 * np.pi, sides, endpoint=False)
    directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    rng = np.random.default_rng(garment.seed)
    pleat_phase = rng.uniform(0, 2 * np.pi)
    waves = rng.normal(size=(3,)) * 0.5
    max_flare, gap = cut.get("max_flare", MAX_FLARE), cut.get("gap", 0.0)
    hull_points = band
    radii, level_directions = [], []
    for index, height in enumerate(heights):
        new = points[(points[:, 2] < height + 0.5 * step) & (points[:, 2] >= height - 0.5 * step), :2]
        if len(new) or index == 0:
            hull_points = np.concatenate([hull_points, new])
            hull_points = hull_points[ConvexHull(hull_points).vertices]
        depth = top - height
        widen = min(cut.get("flare", 0.1) * depth, max_flare)
        shape, level_angles, pattern_angles, level_directions_now = hull_points, angles, angles, directions
        if hang is not None:
            fall = min(depth / max(top - hem, 1e-6), 1.0) ** 2  # 0 at the waistband, 1 at the hem
            widen = widen * hang.flare
            if np.any(hang.swing):  # the body still pushes the cloth: the hull of both
                swung = np.concatenate([hull_points, hull_points + fall * np.asarray(hang.swing)])
                shape = swung[ConvexHull(swung).vertices]
            if gap > 0:
                opening = min(gap * (1.0 + 0.5 * fall), MAX_GAP)
                level_angles = hang.front + 0.5 * opening + np.linspace(0.0, 2 * np.pi - opening, sides)
                level_directions_now = np.stack([np.cos(level_angles), np.sin(level_angles)], axis=1)
            pattern_angles = level_angles - hang.spin * fall
        pleats = 1.0 + cut.get("pleat_depth", 0.0) * np.sin(cut.get("pleats", 0) * pattern_angles + pleat_phase)
        sway = 1.0 + 0.3 * (waves[0] * np.sin(pattern_angles + waves[1]) + waves[2] * np.sin(2 * pattern_angles)) * min(depth / 0.4, 1.0)
        offset = garment.thickness + widen * pleats * np.clip(sway, 0.3, None)
        radii.append(polar_radius(shape, centre, level_directions_now, offset))
        level_directions.append(level_directions_now)
    radii = np.stack(radii)  # (S, D)
    # Smooth the profile along the height (the hull grows in steps), never inwards.
    kernel = np.ones(5) / 5.0
    padded = np.pad(radii, ((2, 2), (0, 0)), mode="edge")
    smoothed = sum(kernel[i] * padded[i:i + len(radii)] for i in range(5))
    radii = np.maximum(radii, smoothed)
    if hang is not None:
        directions = np.stack(level_directions)  # (S, D, 2)
    levels = np.broadcast_to(heights[:, None, None], radii.shape + (1,))
    rings = np.concatenate([centre + radii[..., None] * directions, levels], axis=2)
    if gap > 0 and hang is not None:  # an open front: a C-shaped band of cloth
        cloth = max(garment.thickness, 0.01)
        inner = np.concatenate([centre + np.maximum(radii - cloth, 0.005)[..., None] * directions, levels], axis=2)
        vertices, faces = loft_band(rings, inner)
        surface = np.concatenate([rings.reshape(-1, 3), inner.reshape(-1, 3)])
        return Solid(vertices, faces, garment.layer, garment.material, surface=surface)
    vertices, faces = loft_tube(rings)
    # Label points on the waistband (the top cap's rim) as well as on the rings.
    inner = centre + (radii[0] - garment.thickness)[:, None] * (directions[0] if hang is not None else directions)
    band = np.concatenate([inner, np.full((sides, 1), heights[0])], axis=1)
    surface = np.concatenate([rings.reshape(-1, 3), band, 0.5 * (band + rings[0])])
    return Solid(vertices, faces, garment.layer, garment.material, surface=surface)


def polar_radius(hull: np.ndarray, centre: np.ndarray, directions: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """(D,) distance from ``centre`` along each direction to a convex polygon pushed out by ``offset`` (D,).

    hull: (E, 2) polygon vertices in counter-clockwise order (centre inside).
    """
    edges = np.roll(hull, -1, axis=0) - hull
    normals = np.stack([edges[:, 1], -edges[:, 0]], axis=1)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    support = np.einsum("ei,ei->e", normals, hull - centre)  # (E,) ≥ 0 when the centre is inside
    facing = directions @ normals.T  # (D, E)
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = (np.maximum(support, 0.0)[None, :] + offset[:, None]) / facing
    distance = np.where(facing > 1e-6, distance, np.inf)
    return distance.min(axis=1)


def loft_tube(rings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Close a stack of rings (S, D, 3), top first, into an outward-facing tube with flat caps."""
    count, sides = rings.shape[:2]
    vertices = np.concatenate([rings.reshape(-1, 3), rings[0].mean(axis=0)[None], rings[-1].mean(axis=0)[None]])
    ring = np.arange(sides)
    following = (ring + 1) % sides
    faces = []
    for level in range(count - 1):
        a, b = level * sides + ring, level * sides + following
        c, d = (level + 1) * sides + ring, (level + 1) * sides + following
        faces += [np.stack([a, c, b], axis=1), np.stack([b, c, d], axis=1)]
    top, bottom = count * sides, count * sides + 1
    faces.append(np.stack([np.full(sides, top), ring, following], axis=1))
    faces.append(np.stack([np.full(sides, bottom), (count - 1) * sides + following, (count - 1) * sides + ring], axis=1))
    faces = np.concatenate(faces)
    return vertices, _outward(vertices, faces)


def loft_band(outer: np.ndarray, inner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Close a stack of C-shaped sections into an outward-facing solid.

    outer, inner: (S, D, 3) the section's outer and inner arcs, top level first, both running
    the same way round; each section is the polygon outer[0 … D−1] then inner[D−1 … 0].
    """
    count, sides = outer.shape[:2]
    polygon = np.concatenate([outer, inner[:, ::-1]], axis=1)  # (S, 2D, 3)
    length = 2 * sides
    ring = np.arange(length)
    following = (ring + 1) % length
    faces = []
    for level in range(count - 1):
        a, b = level * length + ring, level * length + following
        c, d = (level + 1) * length + ring, (level + 1) * length + following
        faces += [np.stack([a, c, b], axis=1), np.stack([b, c, d], axis=1)]
    i = np.arange(sides - 1)
    quads = np.stack([i, i + 1, length - 2 - i, length - 1 - i], axis=1)  # outer i, i + 1, inner i + 1, i
    cap = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
    bottom = (count - 1) * length
    faces += [cap, (cap + bottom)[:, ::-1]]
    faces = np.concatenate(faces)
    vertices = polygon.reshape(-1, 3)
    return vertices, _outward(vertices, faces)


def _outward(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Flip a closed mesh's faces if its signed volume is negative."""
    a, b, c = vertices[faces[:, 0]], vertices[faces[:, 1]], vertices[faces[:, 2]]
    volume = np.einsum("ij,ij->i", a, np.cross(b, c)).sum()
    return faces if volume > 0 else faces[:, ::-1].copy()
