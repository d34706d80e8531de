"""What the ground truth of a synthetic person is built from: closed solids, materials and garments.

A :class:`Garment` is the cut and cloth of one piece of clothing (or hair); dressing a
posed body turns it into :class:`Solid` s (closed, outward-oriented triangle meshes in
Anny's world frame, metres), each with a layer and an index into a list of
:class:`Material` s. :mod:`humanvid.synth.groundtruth` meshes their union.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Stacking order: larger layers cover smaller ones where they overlap.
LAYERS = {"shoes": 1, "leggings": 2, "tight_top": 2, "trousers": 3, "shorts": 3, "wide_trousers": 3, "skirt": 4,
          "tshirt": 5, "shirt": 5, "hoodie": 5, "dress": 5, "jacket": 6, "coat": 6, "puffer": 6, "hair": 7, "cap": 8}


@dataclass
class Solid:
    """A closed, outward-oriented triangle mesh taking part in the union.

    vertices: (N, 3) world [m]; faces: (M, 3) int; layer: larger = further out;
    material: index into the sample's material list; surface: (P, 3) points, ~1 cm apart or
    closer, on the part of the boundary that can show (default: all vertices) — a shell's
    uncovered part, sunk under the skin, is left out; coverage: for a shell over the body,
    (V,) margin [m] of each body vertex inside the garment's cut (> 0: covered), which
    decides the garment's edges more finely than its vertices can.
    """

    vertices: np.ndarray
    faces: np.ndarray
    layer: int
    material: int
    surface: np.ndarray | None = None
    coverage: np.ndarray | None = None

    @property
    def label_points(self) -> np.ndarray:
        return self.vertices if self.surface is None else self.surface


@dataclass(frozen=True)
class Material:
    """Surface appearance of one label: skin, a garment, hair or shoes.

    pattern holds the keyword arguments of ``humanvid.synth.textures.Pattern``
    (kind, color, scale, direction, duty, contrast, seed), so a renderer can
    re-evaluate the texture at any resolution.
    """

    name: str  # "skin", "tshirt", "skirt", "hair", ...
    kind: str  # "skin", "garment", "hair" or "shoes"
    color: tuple[float, float, float]  # base albedo, RGB in [0, 1]
    pattern: dict = field(default_factory=lambda: {"kind": "plain"})


@dataclass(frozen=True)
class Garment:
    """One piece of clothing (or hair): its cut and its cloth.

    kind: one of :data:`LAYERS`; material: index into the outfit's materials;
    thickness [m]; looseness in [0, 1] (smoothing of the shell); folds: fold
    amplitude as a fraction of the thickness; fold_scale: wavelength [m];
    seed: fold noise; cut: kind-specific lengths and options, read where the garment is built
    (:func:`humanvid.synth.clothing.coverage`, :mod:`humanvid.synth.skirts`, :mod:`humanvid.synth.hair`).
    """

    kind: str
    material: int
    thickness: float
    looseness: float = 0.0
    folds: float = 0.0
    fold_scale: float = 0.1
    seed: int = 0
    cut: dict = field(default_factory=dict)

    @property
    def layer(self) -> int:
        return LAYERS[self.kind]
