"""Procedural garments as closed solids around a posed Anny body.

Two constructions, both defined relative to the body so a clip's clothes move with it:

- **Shells** (tops, trousers, shorts, leggings, shoes, the upper part of dresses and
  coats; built by :mod:`humanvid.synth.shells`): a copy of the closed body surface whose vertices inside the garment's cut
  (:mod:`humanvid.synth.regions` coordinates) move out along the posed normals by a
  per-vertex thickness — base thickness × smooth fold noise of the REST position —
  and whose other vertices sink 1.5 mm under the skin. Loose garments are
  Laplacian-smoothed so they bridge the body's hollows; outer shells are kept thicker
  than the ones under them; jackets may be open at the front.
- **Hanging tubes** (skirts, the skirt of dresses and long coats), see
  :mod:`humanvid.synth.skirts`: they bridge the legs like cloth hanging from the hips.
- **Loose extras** (:mod:`humanvid.synth.drape`), for garments of the loose family
  (:mod:`humanvid.synth.loose`): hems that swing in a clip (cuts with ``swing``), open
  long coats (``gap``), raised hoods (``hood: "up"``), puffer channels, wide trouser legs.

Hair and caps come from :mod:`humanvid.synth.hair`. :func:`sample_outfit` draws random
combinations, cuts, thicknesses, colours and patterns (:class:`Garment` s and
:class:`Material` s of :mod:`humanvid.synth.solids`); :func:`dress` turns an outfit and
one posed frame into :class:`Solid` s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humanvid.geometry.body_distance import vertex_normals
from humanvid.synth.bodies import BodySpec, PosedBody
from humanvid.synth.drape import hem_hang, hood_up_solid, quilting, wide_leg_solids
from humanvid.synth.hair import cap_solids, hair_solids, hair_thickness, sample_hair
from humanvid.synth.regions import BodyRegions
from humanvid.synth.shells import offset_shell, posed_bone_index, shell_surface, stack_thickness
from humanvid.synth.skirts import skirt_solid
from humanvid.synth.solids import Garment, Material, Solid

SINK = 0.0015  # uncovered shell vertices sit this far under the skin [m]
# The body solid is the skin pushed out by this much, so details finer than the 4 mm grid
# (lips, eyelids, finger tips) stay inside the meshed surface.
BODY_MARGIN = 0.0015
HAND_MARGIN = 0.001
TAPER = 0.016  # a garment's edge thins out over this distance [m]


@dataclass(frozen=True)
class Outfit:
    """Skin material (index 0), garment materials, and the garments (hair included)."""

    materials: tuple[Material, ...]
    garments: tuple[Garment, ...]

    @property
    def lift(self) -> float:
        """How far shoes raise the body off the floor [m]."""
        return max([g.thickness + g.cut.get("sole", 0.0) for g in self.garments if g.kind == "shoes"], default=0.0)


# ------------------------------------------------------------------------------------ sampling

NEUTRALS = np.array([
    [0.05, 0.05, 0.06], [0.92, 0.92, 0.9], [0.5, 0.5, 0.52], [0.12, 0.15, 0.3], [0.75, 0.68, 0.55],
    [0.22, 0.32, 0.5], [0.33, 0.36, 0.22], [0.38, 0.25, 0.16], [0.45, 0.1, 0.14], [0.25, 0.25, 0.27],
])  # fmt: skip  black, white, grey, navy, beige, denim, olive, brown, burgundy, charcoal
HAIR_COLORS = np.array([[0.05, 0.04, 0.03], [0.16, 0.1, 0.06], [0.32, 0.2, 0.1], [0.55, 0.4, 0.22],
                        [0.8, 0.68, 0.45], [0.5, 0.2, 0.08], [0.6, 0.6, 0.6], [0.9, 0.9, 0.88]])


def garment_color(rng: np.random.Generator) -> tuple[float, float, float]:
    """Mostly everyday neutrals, sometimes a saturated colour."""
    if rng.random() < 0.6:
        color = NEUTRALS[rng.integers(len(NEUTRALS))] * rng.uniform(0.85, 1.15, 3)
    else:
        hue = rng.random()
        color = np.clip(np.abs((hue * 6.0 + np.array([0.0, 4.0, 2.0])) % 6.0 - 3.0) - 1.0, 0.0, 1.0)
        color = 0.15 + rng.uniform(0.45, 0.8) * color * rng.uniform(0.6, 1.0)
    return tuple(float(c) for c in np.clip(color, 0.0, 1.0))


def garment_pattern(rng: np.random.Generator, kind: str | None = None) -> dict:
    """Keyword arguments of ``textures.Pattern``: mostly plain, else stripes, checks, plaid, noise, heather."""
    if kind is None:
        kind = str(rng.choice(["plain"] * 5 + ["stripes", "stripes", "checks", "plaid", "noise", "heather", "heather"]))
    direction = np.array([0.0, 0.0, 1.0]) + (rng.normal(0.0, 0.15, 3) if rng.random() < 0.8 else rng.normal(0, 1, 3))
    return {
        "kind": kind,
        "color": garment_color(rng) if rng.random() < 0.5 else None,
        "scale": float(np.exp(rng.uniform(np.log(0.015), np.log(0.1)))),
        "direction": tuple(float(x) for x in direction / np.linalg.norm(direction)),
        "duty": float(rng.uniform(0.2, 0.6)),
        "contrast": float(rng.uniform(0.3, 1.0)),
        "seed": int(rng.integers(2**31)),
    }


class Wardrobe:
    """An outfit being put together: the skin material (index 0), then each garment's material and the
    garment, every seed and colour drawn from ``rng`` in the order the garments are added."""

    def __init__(self, rng: np.random.Generator, body: BodySpec):
        self.rng = rng
        self.materials = [Material("skin", "skin", body.skin_color, {"kind": "skin", "seed": int(rng.integers(2**31)),
                                                                      "contrast": 0.5})]
        self.garments: list[Garment] = []

    def add(self, kind: str, thickness: float, pattern: str | None = None, color=None, **extra) -> int:
        """A garment of ``kind`` (its cut in ``extra["cut"]``, other Garment fields in ``extra``); returns the
        index of its material."""
        self.materials.append(Material(kind, "shoes" if kind == "shoes" else "garment",
                                       color or garment_color(self.rng), garment_pattern(self.rng, pattern)))
        cut = extra.pop("cut", {})
        self.garments.append(Garment(kind, len(self.materials) - 1, float(thickness),
                                     seed=int(self.rng.integers(2**31)), cut=cut, **extra))
        return len(self.materials) - 1

    def add_hair(self, hair: dict) -> None:
        """Hair of a style from humanvid.synth.hair (its cut), in a natural colour."""
        color = HAIR_COLORS[self.rng.integers(len(HAIR_COLORS))] * self.rng.uniform(0.85, 1.15)
        self.materials.append(Material("hair", "hair", tuple(float(c) for c in np.clip(color, 0, 1)),
                                       {"kind": "hair", "direction": (0.0, 0.0, 1.0), "contrast": 0.6,
                                        "seed": int(self.rng.integers(2**31))}))
        self.garments.append(Garment("hair", len(self.materials) - 1, hair["thickness"], looseness=0.6,
                                     seed=hair["seed"], cut=hair))

    def outfit(self) -> Outfit:
        return Outfit(tuple(self.materials), tuple(self.garments))


# Motions with the legs far apart: long skirts, dresses and coats are kept above the knee.
WIDE_MOTIONS = ("lunge", "sit", "squat", "squats", "skate", "run", "jumping_jack", "jumping_jacks", "tennis")


def sample_outfit(rng: np.random.Generator, body: BodySpec, motion: str | None = None) -> Outfit:
    """A random outfit for ``body``: bottom, top (or a dress), maybe an outer layer, shoes and hair.

    motion: the pose or clip kind; wide-legged motions get skirts no longer than the knee.
    """
    longest = 1.0 if motion in WIDE_MOTIONS else 1.9
    feminine = body.phenotype[0] > 0.5  # Anny gender: 0 male, 1 female
    wardrobe = Wardrobe(rng, body)
    add = wardrobe.add

    dress_probability = 0.25 if feminine else 0.02
    if rng.random() < dress_probability:
        loose = rng.uniform(0.0, 1.0)
        add("dress", 0.004 + 0.012 * loose, looseness=0.3 + 0.5 * loose, folds=0.4, fold_scale=rng.uniform(0.06, 0.15),
            cut={"sleeve": float(rng.choice([-0.2, 0.3, 0.6, 2.0], p=[0.35, 0.3, 0.2, 0.15])),
                 "neck": float(rng.uniform(0.0, 0.08)), "length": float(rng.uniform(0.5, longest)),
                 "flare": float(rng.uniform(0.05, 0.4)), "pleats": int(rng.integers(0, 14)),
                 "pleat_depth": float(rng.uniform(0.0, 0.4))})
    else:
        bottom = str(rng.choice(["trousers", "jeans", "shorts", "skirt", "leggings"],
                                p=[0.3, 0.27, 0.15, 0.16, 0.12] if feminine else [0.4, 0.35, 0.22, 0.0, 0.03]))
        if bottom in ("trousers", "jeans"):
            loose = rng.uniform(0.0, 1.0)
            add("trousers", 0.004 + 0.014 * loose, "denim" if bottom == "jeans" else None,
                color=tuple(float(c) for c in np.clip([0.18, 0.27, 0.45] * rng.uniform(0.6, 1.5, 3), 0, 1))
                if bottom == "jeans" else None,
                looseness=0.2 + 0.5 * loose, folds=0.5, fold_scale=rng.uniform(0.05, 0.12),
                cut={"leg": float(rng.uniform(1.9, 2.02)), "waist": float(rng.uniform(0.04, 0.14))})
        elif bottom == "shorts":
            add("shorts", rng.uniform(0.005, 0.02), looseness=rng.uniform(0.2, 0.7), folds=0.4,
                fold_scale=rng.uniform(0.05, 0.1),
                cut={"leg": float(rng.uniform(0.25, 0.95)), "waist": float(rng.uniform(0.04, 0.14))})
        elif bottom == "skirt":
            add("skirt", rng.uniform(0.004, 0.012),
                cut={"length": float(rng.uniform(0.35, longest)), "waist": float(rng.uniform(0.04, 0.16)),
                     "flare": float(rng.uniform(0.03, 0.45)), "pleats": int(rng.integers(0, 16)),
                     "pleat_depth": float(rng.uniform(0.0, 0.5))})
        else:
            add("leggings", rng.uniform(0.002, 0.004), cut={"leg": float(rng.uniform(1.5, 2.0)), "waist": 0.12})
        top = str(rng.choice(["tight_top", "tshirt", "shirt", "hoodie"], p=[0.2, 0.4, 0.22, 0.18]))
        if top == "tight_top":
            add("tight_top", rng.uniform(0.002, 0.005),
                cut={"sleeve": float(rng.choice([-0.2, 0.4, 2.0])), "hem": float(rng.uniform(-0.02, 0.2)),
                     "neck": float(rng.uniform(0.0, 0.1))})
        elif top == "tshirt":
            add("tshirt", rng.uniform(0.006, 0.02), looseness=rng.uniform(0.3, 0.8), folds=0.5,
                fold_scale=rng.uniform(0.05, 0.14),
                cut={"sleeve": float(rng.uniform(0.3, 0.8)), "hem": float(rng.uniform(-0.08, 0.05)),
                     "neck": float(rng.uniform(0.0, 0.05))})
        elif top == "shirt":
            add("shirt", rng.uniform(0.008, 0.02), looseness=rng.uniform(0.3, 0.8), folds=0.5,
                fold_scale=rng.uniform(0.05, 0.12),
                cut={"sleeve": float(rng.uniform(1.5, 2.02)), "hem": float(rng.uniform(-0.1, 0.02)),
                     "neck": float(rng.uniform(0.0, 0.04))})
        else:
            add("hoodie", rng.uniform(0.015, 0.035), looseness=rng.uniform(0.5, 1.0), folds=0.45,
                fold_scale=rng.uniform(0.07, 0.15),
                cut={"sleeve": float(rng.uniform(1.85, 2.02)), "hem": float(rng.uniform(-0.08, 0.02)),
                     "neck": -0.03, "hood": bool(rng.random() < 0.7)})
    outer = rng.random()
    if outer < 0.16:
        add("jacket", rng.uniform(0.012, 0.03), looseness=rng.uniform(0.4, 0.9), folds=0.4,
            fold_scale=rng.uniform(0.07, 0.15),
            cut={"sleeve": float(rng.uniform(1.9, 2.02)), "hem": float(rng.uniform(-0.1, 0.05)),
                 "neck": float(rng.uniform(-0.03, 0.02)),
                 "open": float(rng.uniform(0.02, 0.08)) if rng.random() < 0.5 else 0.0})
    elif outer < 0.24:
        add("coat", rng.uniform(0.015, 0.03), looseness=rng.uniform(0.5, 0.9), folds=0.35,
            fold_scale=rng.uniform(0.08, 0.16),
            cut={"sleeve": float(rng.uniform(1.9, 2.02)), "neck": float(rng.uniform(-0.03, 0.02)),
                 "length": float(rng.uniform(0.8, min(longest, 1.6))),
                 "flare": float(rng.uniform(0.05, 0.25)),
                 "pleats": 0, "pleat_depth": 0.0})
    if rng.random() < 0.93:
        boots = rng.random() < 0.2
        add("shoes", rng.uniform(0.005, 0.01), color=tuple(float(c) for c in NEUTRALS[rng.integers(len(NEUTRALS))]),
            pattern="plain", cut={"top": float(rng.uniform(1.35, 1.6) if boots else rng.uniform(1.86, 1.93)),
                                  "sole": float(rng.uniform(0.012, 0.03))})
    hair = sample_hair(rng, feminine)
    if hair is not None:
        wardrobe.add_hair(hair)
    if rng.random() < 0.1:
        add("cap", rng.uniform(0.004, 0.008), cut={"brim": float(rng.uniform(0.05, 0.08)),
                                                   "backwards": bool(rng.random() < 0.2)})
    return wardrobe.outfit()


# ------------------------------------------------------------------------------------ geometry


def dress(outfit: Outfit, regions: BodyRegions, posed: PosedBody, frame: int = 0) -> list[Solid]:
    """The closed solids (body first) of one posed frame of a dressed person."""
    vertices = posed.vertices[frame]
    faces = posed.faces
    raw_normals = vertex_normals(vertices, faces)
    normals = _smooth_normals(raw_normals, regions)
    margin = BODY_MARGIN + HAND_MARGIN * regions.hand  # fingers are thinnest: a little more
    solids = [Solid(vertices + margin[:, None] * raw_normals, faces, 0, 0)]
    under = np.zeros(len(vertices))  # thickest shell so far, per vertex
    raised = []  # hoodies with the hood up
    for garment in sorted(outfit.garments, key=lambda g: g.layer):
        if garment.kind == "hair":
            solids += hair_solids(garment, regions, posed, frame, normals, under)
            under = np.maximum(under, stack_thickness(hair_thickness(garment, regions), under))
            continue
        if garment.kind == "cap":
            solids += cap_solids(garment, regions, posed, frame, normals, under)
            continue
        if garment.kind in ("skirt", "dress", "coat"):
            hang = hem_hang(regions, posed, frame) if garment.cut.get("swing") else None
            solids.append(skirt_solid(garment, regions, vertices, hang=hang))
            if garment.kind == "skirt":
                continue
        if garment.kind == "wide_trousers":
            solids += wide_leg_solids(garment, regions, vertices)
        thickness = stack_thickness(garment_thickness(garment, regions), under)
        under = np.maximum(under, thickness)
        shell = offset_shell(vertices, normals, thickness, regions, garment.looseness)
        solids.append(Solid(shell, faces, garment.layer, garment.material, surface=shell_surface(shell, faces, thickness),
                            coverage=coverage(garment, regions)))
        if garment.kind == "hoodie" and garment.cut.get("hood") == "up":
            raised.append(garment)
        elif garment.kind == "hoodie" and garment.cut.get("hood"):
            solids.append(_hood(garment, regions, posed, frame))
    for garment in raised:  # over the hair, once every thickness under it is known
        solids.append(hood_up_solid(garment, regions, posed, frame, normals, under))
    return solids


def garment_thickness(garment: Garment, regions: BodyRegions) -> np.ndarray:
    """(V,) outward offset of the garment's shell: thickness × folds inside the cut, −SINK outside."""
    cover = coverage(garment, regions)
    amount = np.clip(0.5 + cover / TAPER, 0.0, 1.0)
    thickness = np.full(len(cover), garment.thickness)
    if garment.folds > 0:
        noise = fold_noise(regions.rest, garment.seed, garment.fold_scale)
        thickness = thickness * (1.0 + garment.folds * noise)
    if garment.kind == "puffer":
        thickness = thickness * quilting(regions, garment.cut.get("channel", 0.1))
    if garment.kind == "shoes":
        thickness = thickness + garment.cut["sole"] * np.clip(-regions.rest_normals[:, 2], 0.0, 1.0) ** 2
    return np.where(amount > 0.05, amount * thickness, -SINK)


def coverage(garment: Garment, regions: BodyRegions) -> np.ndarray:
    """(V,) signed distance-like margin [m] of each vertex inside the garment's cut (> 0: covered)."""
    r, j, cut = regions, regions.joints, garment.cut
    z = r.rest[:, 2]
    kind = garment.kind
    no_hands = (0.5 - r.hand) * 0.05
    no_head = (0.5 - r.head) * 0.05
    no_feet = (0.5 - r.foot) * 0.05
    if kind in ("tight_top", "tshirt", "shirt", "hoodie", "jacket", "coat", "dress", "puffer"):
        hem = j["hip"][2] + (cut.get("hem", 0.12) if kind not in ("dress", "coat") else -0.02)
        front = np.clip(-(r.rest[:, 1] - j["neck"][1]) / 0.06, 0.0, 1.0)
        neckline = j["neck"][2] - cut.get("neck", 0.0) * front - 0.01
        torso = np.minimum(z - hem, neckline - z)
        upper_arm = np.linalg.norm(j["elbow"] - j["shoulder"])
        arm = (cut.get("sleeve", 0.5) - r.arm_coord) * upper_arm
        margin = (1.0 - r.arm) * torso + r.arm * np.minimum(arm, torso + 0.3)
        margin = np.minimum(margin, (0.5 - r.leg) * 0.05)
        if cut.get("open", 0.0) > 0:  # an open front, widening into lapels towards the neck
            frontal = np.clip((-r.rest_normals[:, 1] - 0.2) / 0.3, 0.0, 1.0) * (1.0 - r.arm)
            lapels = 0.07 * np.clip((z - j["chest"][2]) / 0.15, 0.0, 1.0)
            margin = np.minimum(margin, np.abs(r.rest[:, 0]) - cut["open"] - lapels + (1.0 - frontal))
        return np.minimum.reduce([margin, no_hands, no_head])
    if kind in ("trousers", "shorts", "leggings", "wide_trousers"):
        waist = j["hip"][2] + cut.get("waist", 0.1)
        thigh = np.linalg.norm(j["knee"] - j["hip"])
        leg = (cut.get("leg", 2.0) - r.leg_coord) * thigh
        margin = (1.0 - r.leg) * (waist - z) + r.leg * np.minimum(leg, waist - z)
        margin = np.minimum(margin, (0.5 - r.arm) * 0.05)
        return np.minimum.reduce([margin, no_head, no_feet if cut.get("leg", 2.0) < 2.0 else margin])
    if kind == "shoes":
        shin = np.linalg.norm(j["ankle"] - j["knee"])
        return np.minimum((r.leg_coord - cut["top"]) * shin, (r.leg - 0.5) * 0.05)
    raise ValueError(f"no shell cut for {kind!r}")


def fold_noise(points: np.ndarray, seed: int, scale: float, waves: int = 6) -> np.ndarray:
    """(N,) smooth noise in about [−1, 1]: random sinusoids of wavelength ~``scale`` over rest positions.

    Wave vectors lean horizontal, so folds tend to run up and down like drapes.
    """
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(waves, 3)) * np.array([1.0, 1.0, 0.5])
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    wavenumbers = 2 * np.pi / (scale * rng.uniform(0.6, 1.6, waves))
    phases = rng.uniform(0, 2 * np.pi, waves)
    values = np.sin(points @ (directions * wavenumbers[:, None]).T + phases).sum(axis=1)
    return np.clip(values / np.sqrt(waves / 2.0) / 1.5, -1.0, 1.0)


def _smooth_normals(normals: np.ndarray, regions: BodyRegions, iterations: int = 2) -> np.ndarray:
    for _ in range(iterations):
        normals = regions.adjacency @ normals
    return normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)


def _hood(garment: Garment, regions: BodyRegions, posed: PosedBody, frame: int) -> Solid:
    """A hood lying on the upper back, carried by the neck."""
    import trimesh

    j = regions.joints
    sphere = trimesh.creation.icosphere(subdivisions=3)
    centre = j["neck"] + np.array([0.0, 0.075, -0.01])
    rest = sphere.vertices * np.array([0.12, 0.055, 0.09]) + centre
    transform = posed.bone_transform(posed_bone_index(posed, regions, "neck"))[frame]
    vertices = rest @ transform[:3, :3].T + transform[:3, 3]
    return Solid(vertices, sphere.faces.astype(np.int64), garment.layer, garment.material)
