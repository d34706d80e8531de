"""Outfits of the loose family: clothes and hair that stand and drape well away from the body.

:func:`sample_loose_outfit` is the loose family's counterpart of
``humanvid.synth.clothing.sample_outfit`` (same :class:`~humanvid.synth.clothing.Outfit`,
colours and patterns), drawing mostly from:

- A-line dresses (knee to calf, strongly flared) and long dresses (calf to ankle);
- long skirts and pleated skirts (many deep pleats), round the shins too;
- wide trousers (flared legs from the knee, :func:`humanvid.synth.drape.wide_leg_solids`)
  and baggy trousers; oversized t-shirts, loose shirts, hoodies with the hood down or up;
- long coats, open (a C-shaped hanging band) or closed, puffer jackets (thick, quilted),
  loose jackets;
- long, very long and voluminous hair (:data:`humanvid.synth.hair.LOOSE_STYLES`).

Every hanging hem gets ``swing`` (it trails, swings and flares with the body's motion in a
clip), ``cover`` (the shins shape the tube, so legs stay inside a long skirt) and its own
``max_flare``. Wide-legged motions get hems no lower than the upper calf; bent and crouched
ones (:data:`BENT`) no hanging garments at all, since a tube hanging from the hips would stand
round them like a tent. Stills of the loose family favour upright poses
(:func:`sample_loose_pose_kind`). MediaPipe misses people in long hanging garments more
often (about one render in eight, against almost never in the family's other outfits), so
dresses, long skirts and long coats dress about a third of the upright people.
"""

from __future__ import annotations

import numpy as np

from humanvid.synth.bodies import BodySpec
from humanvid.synth.clothing import NEUTRALS, WIDE_MOTIONS, Outfit, Wardrobe
from humanvid.synth.hair import LOOSE_STYLES, STYLES

COVER = 1.9  # leg coordinate down to which the legs shape a long hanging tube (just above the ankle)
# Motions a hanging tube cannot drape over (it would stand round the body as a tent or a box):
# no dresses, long skirts or long coats for them.
BENT = ("bend", "lunge", "sit", "squat", "squats", "skate")
# Still poses of the loose family: upright ones, where loose clothes hang, more often than crouched or bent ones.
POSE_WEIGHTS = {"stand": 2.0, "walk": 2.0, "run": 1.0, "jumping_jack": 1.0, "squat": 0.4, "lunge": 1.0,
                "arms_raised": 1.5, "tennis": 1.0, "skate": 0.5, "bend": 0.6, "sit": 1.0, "gesture": 2.0}


def sample_loose_pose_kind(rng: np.random.Generator) -> str:
    """A still pose kind (``humanvid.synth.poses.POSE_KINDS``) drawn with :data:`POSE_WEIGHTS`."""
    kinds = list(POSE_WEIGHTS)
    weights = np.array([POSE_WEIGHTS[k] for k in kinds])
    return str(rng.choice(kinds, p=weights / weights.sum()))


def sample_loose_outfit(rng: np.random.Generator, body: BodySpec, motion: str | None = None) -> Outfit:
    """A random loose outfit for ``body``: a dress or a bottom and a top, often a coat or puffer, shoes, hair."""
    longest = 1.3 if motion in WIDE_MOTIONS else 1.95
    bent = motion in BENT
    feminine = body.phenotype[0] > 0.5
    wardrobe = Wardrobe(rng, body)
    add = wardrobe.add

    def hanging(length: float, flare: float, max_flare: float, pleats: int = 0, pleat_depth: float = 0.0) -> dict:
        return {"length": float(length), "flare": float(flare), "max_flare": float(max_flare), "pleats": int(pleats),
                "pleat_depth": float(pleat_depth), "cover": COVER, "swing": True}

    long_below = False  # a dress or a long skirt: no long coat over it, and less often a puffer
    if rng.random() < (0.0 if bent else 0.2 if feminine else 0.03):
        a_line = rng.random() < 0.5
        length = rng.uniform(0.9, min(1.4, longest)) if a_line else rng.uniform(min(1.4, longest), longest)
        flare = rng.uniform(0.45, 0.9) if a_line else rng.uniform(0.15, 0.5)
        add("dress", rng.uniform(0.006, 0.014), looseness=rng.uniform(0.5, 0.9), folds=0.4,
            fold_scale=rng.uniform(0.06, 0.15),
            cut={"sleeve": float(rng.choice([-0.2, 0.3, 0.6, 2.0], p=[0.3, 0.3, 0.2, 0.2])),
                 "neck": float(rng.uniform(0.0, 0.08)),
                 **hanging(length, flare, rng.uniform(0.12, 0.28), rng.integers(0, 14), rng.uniform(0.0, 0.25))})
        long_below = True
    else:
        bottom = str(rng.choice(["long_skirt", "pleated_skirt", "wide_trousers", "baggy_trousers"],
                                p=[0.0, 0.0, 0.55, 0.45] if bent else [0.2, 0.12, 0.38, 0.3] if feminine
                                else [0.03, 0.02, 0.5, 0.45]))
        if bottom == "long_skirt":
            add("skirt", rng.uniform(0.005, 0.012),
                cut={"waist": float(rng.uniform(0.04, 0.16)),
                     **hanging(rng.uniform(min(1.3, longest), longest), rng.uniform(0.25, 0.7), rng.uniform(0.12, 0.25),
                               rng.integers(0, 10), rng.uniform(0.0, 0.2))})
            long_below = True
        elif bottom == "pleated_skirt":
            add("skirt", rng.uniform(0.006, 0.012),
                cut={"waist": float(rng.uniform(0.04, 0.14)),
                     **hanging(rng.uniform(0.6, min(1.5, longest)), rng.uniform(0.3, 0.7), rng.uniform(0.1, 0.22),
                               rng.integers(14, 30), rng.uniform(0.2, 0.45))})
            long_below = True
        elif bottom == "wide_trousers":
            add("wide_trousers", rng.uniform(0.01, 0.02), looseness=rng.uniform(0.7, 1.0), folds=0.5,
                fold_scale=rng.uniform(0.06, 0.14),
                cut={"leg": float(rng.uniform(1.93, 2.0)), "waist": float(rng.uniform(0.04, 0.14)),
                     "from": float(rng.uniform(0.6, 1.0)), "flare": float(rng.uniform(0.04, 0.09))})
        else:
            add("trousers", rng.uniform(0.018, 0.03), looseness=rng.uniform(0.8, 1.0), folds=0.6,
                fold_scale=rng.uniform(0.06, 0.14),
                cut={"leg": float(rng.uniform(1.92, 2.02)), "waist": float(rng.uniform(0.04, 0.14))})
        top = str(rng.choice(["hoodie", "oversized_tshirt", "shirt"], p=[0.45, 0.3, 0.25]))
        if top == "hoodie":
            add("hoodie", rng.uniform(0.02, 0.04), looseness=rng.uniform(0.7, 1.0), folds=0.45,
                fold_scale=rng.uniform(0.07, 0.15),
                cut={"sleeve": float(rng.uniform(1.85, 2.02)), "hem": float(rng.uniform(-0.08, 0.02)),
                     "neck": -0.03, "hood": "up" if rng.random() < 0.5 else bool(rng.random() < 0.8),
                     "hood_thickness": float(rng.uniform(0.025, 0.045))})
        elif top == "oversized_tshirt":
            add("tshirt", rng.uniform(0.02, 0.035), looseness=rng.uniform(0.8, 1.0), folds=0.5,
                fold_scale=rng.uniform(0.06, 0.14),
                cut={"sleeve": float(rng.uniform(0.5, 1.0)), "hem": float(rng.uniform(-0.14, -0.04)),
                     "neck": float(rng.uniform(0.0, 0.05))})
        else:
            add("shirt", rng.uniform(0.018, 0.03), looseness=rng.uniform(0.7, 1.0), folds=0.5,
                fold_scale=rng.uniform(0.05, 0.12),
                cut={"sleeve": float(rng.uniform(1.5, 2.02)), "hem": float(rng.uniform(-0.14, -0.02)),
                     "neck": float(rng.uniform(0.0, 0.04))})
    outer = str(rng.choice(["coat", "puffer", "jacket", "none"],
                           p=[0.0, 0.15, 0.15, 0.7] if long_below else [0.0, 0.4, 0.2, 0.4] if bent
                           else [0.18, 0.32, 0.15, 0.35]))
    if outer == "coat":
        opened = rng.random() < 0.5
        add("coat", rng.uniform(0.015, 0.03), looseness=rng.uniform(0.6, 0.9), folds=0.35,
            fold_scale=rng.uniform(0.08, 0.16),
            cut={"sleeve": float(rng.uniform(1.9, 2.02)), "neck": float(rng.uniform(-0.03, 0.02)),
                 "open": float(rng.uniform(0.03, 0.07)) if opened else 0.0,
                 "gap": float(rng.uniform(0.5, 0.9)) if opened else 0.0,
                 **hanging(rng.uniform(min(1.2, longest), min(longest, 1.9)), rng.uniform(0.1, 0.35),
                           rng.uniform(0.2, 0.35))})
    elif outer == "puffer":
        add("puffer", rng.uniform(0.035, 0.07), looseness=rng.uniform(0.6, 0.9), folds=0.15,
            fold_scale=rng.uniform(0.08, 0.16),
            cut={"sleeve": float(rng.uniform(1.9, 2.02)), "hem": float(rng.uniform(-0.1, 0.12)),
                 "neck": float(rng.uniform(-0.04, 0.0)), "channel": float(rng.uniform(0.08, 0.14)),
                 "open": float(rng.uniform(0.02, 0.06)) if rng.random() < 0.3 else 0.0})
    elif outer == "jacket":
        add("jacket", rng.uniform(0.02, 0.035), looseness=rng.uniform(0.6, 1.0), folds=0.4,
            fold_scale=rng.uniform(0.07, 0.15),
            cut={"sleeve": float(rng.uniform(1.9, 2.02)), "hem": float(rng.uniform(-0.1, 0.05)),
                 "neck": float(rng.uniform(-0.03, 0.02)),
                 "open": float(rng.uniform(0.02, 0.08)) if rng.random() < 0.5 else 0.0})
    if rng.random() < 0.95:
        boots = rng.random() < 0.3
        add("shoes", rng.uniform(0.005, 0.01), color=tuple(float(c) for c in NEUTRALS[rng.integers(len(NEUTRALS))]),
            pattern="plain", cut={"top": float(rng.uniform(1.35, 1.6) if boots else rng.uniform(1.86, 1.93)),
                                  "sole": float(rng.uniform(0.012, 0.03))})
    hood_up = any(g.kind == "hoodie" and g.cut.get("hood") == "up" for g in wardrobe.garments)
    hair = sample_loose_hair(rng, feminine, hood_up)
    if hair is not None:
        wardrobe.add_hair(hair)
    if not hood_up and rng.random() < 0.05:
        add("cap", rng.uniform(0.004, 0.008), cut={"brim": float(rng.uniform(0.05, 0.08)),
                                                   "backwards": bool(rng.random() < 0.2)})
    return wardrobe.outfit()


def sample_loose_hair(rng: np.random.Generator, feminine: bool, hood_up: bool = False) -> dict | None:
    """A hair style (the ``cut`` of a hair garment) favouring long, very long and voluminous hair; None: shaved.

    Under a raised hood only styles that fit inside it are drawn.
    """
    styles = STYLES + LOOSE_STYLES  # short, bob, long, ponytail, bun, very_long, voluminous
    weights = np.array([0.05, 0.1, 0.25, 0.1, 0.05, 0.3, 0.15] if feminine else [0.4, 0.08, 0.15, 0.04, 0.0, 0.08, 0.25])
    if hood_up:
        weights = weights * np.array([1, 1, 1, 0, 0, 1, 0])
    if rng.random() < (0.01 if feminine else 0.05):
        return None
    style = str(rng.choice(styles, p=weights / weights.sum()))
    thickness = {"short": (0.006, 0.018), "bob": (0.015, 0.03), "long": (0.012, 0.025), "ponytail": (0.006, 0.012),
                 "bun": (0.006, 0.012), "very_long": (0.015, 0.03), "voluminous": (0.035, 0.065)}[style]
    length = (0.3, 0.55) if style == "very_long" else (0.12, 0.3)
    return {"style": style, "thickness": float(rng.uniform(*thickness)), "seed": int(rng.integers(2**31)),
            "length": float(rng.uniform(*length)), "volume": float(rng.uniform(0.9, 1.25)),
            "fringe": bool(rng.random() < 0.3)}
