"""Hair volumes and caps: a thick shell over the scalp, plus a hanging mass for long hair or a ponytail.

The scalp shell is an offset of the head's surface inside a hairline (in rest-pose
coordinates around the head's centre), so it follows the head in every frame; the
long-hair mass, the ponytail and a cap's brim are ellipsoids carried rigidly by the head bone.
Two loose styles (:data:`LOOSE_STYLES`, drawn by ``humanvid.synth.loose``) add volume:
``very_long`` hair falls down the back (a second mass carried by the upper spine, so it
lies on the back whatever the head does) and ``voluminous`` hair stands well off the
scalp and swells into one round mass round the head (:func:`humanvid.synth.shells.swell`).
"""

from __future__ import annotations

import numpy as np

from humanvid.synth.shells import offset_shell, posed_bone_index, shell_surface, stack_thickness, swell
from humanvid.synth.solids import Solid

STYLES = ("short", "bob", "long", "ponytail", "bun")
LOOSE_STYLES = ("very_long", "voluminous")
LONG = ("bob", "long", "very_long", "voluminous")  # styles that reach down the sides of the head


def sample_hair(rng: np.random.Generator, feminine: bool) -> dict | None:
    """A hair style (the ``cut`` of a hair garment), or None for a shaved head."""
    probabilities = [0.15, 0.2, 0.35, 0.2, 0.1] if feminine else [0.75, 0.08, 0.05, 0.04, 0.02]
    if rng.random() < (0.02 if feminine else 0.1):
        return None
    style = str(rng.choice(STYLES, p=np.array(probabilities) / sum(probabilities)))
    thickness = {"short": rng.uniform(0.006, 0.018), "bob": rng.uniform(0.015, 0.03),
                 "long": rng.uniform(0.012, 0.025), "ponytail": rng.uniform(0.006, 0.012),
                 "bun": rng.uniform(0.006, 0.012)}[style]
    return {"style": style, "thickness": float(thickness), "seed": int(rng.integers(2**31)),
            "length": float(rng.uniform(0.12, 0.3)), "volume": float(rng.uniform(0.8, 1.2)),
            "fringe": bool(rng.random() < 0.3)}


def head_centre(regions) -> np.ndarray:
    """(3,) rest-pose centre of the skull."""
    rest = regions.rest
    skull = rest[(regions.head > 0.5) & (rest[:, 2] > regions.joints["head"][2])]
    return 0.5 * (skull.min(axis=0) + skull.max(axis=0)) * np.array([0.0, 1.0, 1.0])


def hair_thickness(garment, regions) -> np.ndarray:
    """(V,) offset of the scalp shell: the style's thickness inside its hairline, −1.5 mm elsewhere."""
    cut = garment.cut
    margin = hair_coverage(garment, regions)
    q = regions.rest - head_centre(regions)
    amount = np.clip(0.5 + margin / 0.01, 0.0, 1.0)
    thickness = cut["thickness"] * (1.0 + 0.5 * np.clip(-q[:, 2] / 0.1, 0.0, 1.0) * (cut["style"] in LONG))
    return np.where(amount > 0.05, amount * thickness, -0.0015)


def hair_coverage(garment, regions) -> np.ndarray:
    """(V,) margin [m] of each vertex inside the style's hairline (> 0: under hair)."""
    cut = garment.cut
    style = cut["style"]
    q = regions.rest - head_centre(regions)
    horizontal = np.maximum(np.linalg.norm(q[:, :2], axis=1), 1e-6)
    front = np.clip(-q[:, 1] / horizontal, 0.0, 1.0)  # 1 facing forward (−y), 0 sideways or back
    back = np.clip(q[:, 1] / horizontal, 0.0, 1.0)
    forehead = 0.03 if not cut.get("fringe") else -0.005
    side, nape = {"short": (0.0, -0.07), "bob": (-0.085, -0.1), "long": (-0.09, -0.11),
                  "ponytail": (0.0, -0.07), "bun": (0.0, -0.07), "very_long": (-0.09, -0.12),
                  "voluminous": (-0.06, -0.09)}[style]
    frontness = _smoothstep(0.25, 0.6, front)
    hairline = frontness * forehead + (1 - frontness) * (side * (1 - back) + nape * back)
    margin = np.minimum(q[:, 2] - hairline, (regions.head - 0.5) * 0.05)
    if style in LONG:  # keep the face clear below the fringe
        face = (front > 0.55) & (q[:, 2] < forehead)
        margin = np.where(face, np.minimum(margin, -0.01), margin)
    return margin


def hair_solids(garment, regions, posed, frame: int, normals: np.ndarray, under: np.ndarray | None = None
                ) -> list[Solid]:
    """The closed solids of a hair style on one posed frame (``under``: (V,) thickness of the clothes below)."""
    import trimesh

    vertices = posed.vertices[frame]
    thickness = hair_thickness(garment, regions)
    if under is not None:
        thickness = stack_thickness(thickness, under)
    shell = offset_shell(vertices, normals, thickness, regions, garment.looseness)
    cut = garment.cut
    centre = head_centre(regions)
    if cut["style"] == "voluminous":  # one round mass: the shell swells out to an ellipsoid round the head
        transform = posed.bone_transform(posed_bone_index(posed, regions, "head"))[frame]
        weight = np.where((thickness > 0) & (regions.head > 0.3), np.clip(0.5 + hair_coverage(garment, regions) / 0.02, 0, 1), 0)
        semi_axes = np.array([0.08, 0.1, 0.105]) + 1.2 * cut["thickness"] * cut["volume"]
        shell = swell(shell, weight, centre + [0.0, 0.015, 0.02], semi_axes, transform)
    solids = [Solid(shell, posed.faces, garment.layer, garment.material, surface=shell_surface(shell, posed.faces, thickness),
                    coverage=hair_coverage(garment, regions))]
    blobs = []  # (centre offset from the head centre, radii) in rest coordinates
    if cut["style"] == "long":
        length = cut["length"] * cut["volume"]
        blobs.append((np.array([0.0, 0.045, -0.06 - 0.5 * length]), np.array([0.085, 0.04, 0.06 + 0.5 * length])))
    elif cut["style"] == "ponytail":
        length = cut["length"]
        blobs.append((np.array([0.0, 0.1, -0.01]), np.array([0.03, 0.035, 0.035])))
        blobs.append((np.array([0.0, 0.12, -0.02 - 0.5 * length]), np.array([0.03, 0.03, 0.5 * length + 0.02])))
    elif cut["style"] == "bun":
        blobs.append((np.array([0.0, 0.12, 0.03]), np.array([0.045, 0.04, 0.045]) * cut["volume"]))
    elif cut["style"] == "very_long":
        blobs.append((np.array([0.0, 0.05, -0.12]), np.array([0.09, 0.045, 0.13]) * [cut["volume"], 1.0, 1.0]))
    sphere = trimesh.creation.icosphere(subdivisions=3)
    if blobs:
        transform = posed.bone_transform(posed_bone_index(posed, regions, "head"))[frame]
        for offset, radii in blobs:
            rest = sphere.vertices * radii + centre + offset
            solids.append(Solid(rest @ transform[:3, :3].T + transform[:3, 3], sphere.faces.astype(np.int64),
                                garment.layer, garment.material))
    if cut["style"] == "very_long":  # the part lying on the back follows the upper spine
        rest = sphere.vertices * _back_mass_radii(cut) + _back_mass_centre(regions, cut)
        transform = posed.bone_transform(posed_bone_index(posed, regions, "chest"))[frame]
        solids.append(Solid(rest @ transform[:3, :3].T + transform[:3, 3], sphere.faces.astype(np.int64),
                            garment.layer, garment.material))
    return solids


def _back_mass_radii(cut: dict) -> np.ndarray:
    return np.array([0.1 * cut["volume"], 0.035, 0.5 * cut["length"] + 0.04])


def _back_mass_centre(regions, cut: dict) -> np.ndarray:
    """(3,) rest centre of very long hair's mass on the back: from the nape down by the style's length."""
    j, rest = regions.joints, regions.rest
    upper_back = (regions.torso > 0.5) & (rest[:, 2] > j["chest"][2]) & (rest[:, 2] < j["neck"][2]) & (np.abs(rest[:, 0]) < 0.08)
    back = rest[upper_back, 1].max() if np.any(upper_back) else j["neck"][1] + 0.08
    return np.array([0.0, back + 0.012, j["neck"][2] - 0.03 - 0.5 * cut["length"]])


def cap_solids(garment, regions, posed, frame: int, normals: np.ndarray, under: np.ndarray) -> list[Solid]:
    """A baseball cap: a shell over the top of the head (clearing the hair under it) and a brim."""
    import trimesh

    centre = head_centre(regions)
    q = regions.rest - centre
    margin = np.minimum(q[:, 2] - 0.025, (regions.head - 0.5) * 0.05)
    amount = np.clip(0.5 + margin / 0.01, 0.0, 1.0)
    thickness = stack_thickness(np.where(amount > 0.05, amount * garment.thickness, -0.0015), under)
    vertices = posed.vertices[frame]
    shell = offset_shell(vertices, normals, thickness, regions, 0.3)
    solids = [Solid(shell, posed.faces, garment.layer, garment.material, surface=shell_surface(shell, posed.faces, thickness),
                    coverage=margin)]
    skull = regions.rest[(regions.head > 0.5) & (q[:, 2] > 0.0)]
    side = -1.0 if not garment.cut.get("backwards") else 1.0
    reach = skull[:, 1].min() - centre[1] if side < 0 else skull[:, 1].max() - centre[1]
    brim = garment.cut["brim"]
    sphere = trimesh.creation.icosphere(subdivisions=3)
    rest = sphere.vertices * np.array([0.08, 0.5 * brim + 0.02, 0.007]) + centre + np.array(
        [0.0, reach + side * 0.5 * brim, 0.03 + 0.5 * under[margin > 0].max(initial=0.0)])
    transform = posed.bone_transform(posed_bone_index(posed, regions, "head"))[frame]
    solids.append(Solid(rest @ transform[:3, :3].T + transform[:3, 3], sphere.faces.astype(np.int64),
                        garment.layer, garment.material))
    return solids


def _smoothstep(lo: float, hi: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3 - 2 * t)
