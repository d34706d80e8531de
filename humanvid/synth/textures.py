"""Procedural 3D textures: albedo patterns evaluated at surface points.

A ``Pattern`` turns the base colour of a surface point (the mesh's per-vertex
colour) and its texture coordinate (a 3D point, ideally on the body in its rest
pose so a pattern moves with the cloth from frame to frame) into an albedo.
Everything is a pure function of the pattern's parameters, so the same
garment looks the same in every frame and on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("plain", "stripes", "checks", "plaid", "noise", "heather", "denim", "skin", "hair")
LOGO_SHAPES = ("disc", "ring", "square", "diamond", "triangle", "bars")


@dataclass(frozen=True)
class Logo:
    """A small flat print on a garment: a shape in the tangent plane at ``centre``."""

    centre: tuple[float, float, float]  # texture coordinates [m]
    normal: tuple[float, float, float]  # unit surface normal at the centre
    radius: float  # [m]
    shape: str  # one of LOGO_SHAPES
    color: tuple[float, float, float]  # RGB in [0, 1]
    angle: float = 0.0  # rotation in the tangent plane [rad]


@dataclass(frozen=True)
class Pattern:
    """Parameters of one surface's texture (per garment, skin or hair label)."""

    kind: str = "plain"  # one of KINDS
    color: tuple[float, float, float] | None = None  # second colour in [0, 1]; None: a shade of the base
    scale: float = 0.05  # period or feature size [m]
    direction: tuple[float, float, float] = (0.0, 0.0, 1.0)  # stripe normal / hair strand direction
    duty: float = 0.5  # fraction of a stripe period in the second colour
    contrast: float = 0.5  # how strongly the pattern departs from the base colour, 0..1
    seed: int = 0  # noise lattice
    logos: tuple[Logo, ...] = ()


def apply_pattern(pattern: Pattern, base: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """Albedo of surface points.

    base: (N, 3) base colour in [0, 1]; coords: (N, 3) texture coordinates [m].
    Returns (N, 3) float in [0, 1].
    """
    base = np.asarray(base, dtype=np.float64)
    coords = np.asarray(coords, dtype=np.float64)
    if len(coords) == 0:
        return base.copy()
    second = _second_color(pattern, base)
    kind = pattern.kind
    if kind == "plain":
        out = base * (1.0 + 0.04 * pattern.contrast * (fbm(coords / 0.03, pattern.seed, 2) - 0.5))[:, None]
    elif kind == "stripes":
        out = _mix(base, second, _stripes(coords, pattern.direction, pattern.scale, pattern.duty))
    elif kind == "checks":
        cells = np.floor(coords / pattern.scale).astype(np.int64).sum(axis=1) % 2
        out = _mix(base, second, cells.astype(np.float64))
    elif kind == "plaid":
        d1 = np.asarray(pattern.direction, dtype=np.float64)
        d2 = _perpendicular(d1)
        a = _stripes(coords, d1, pattern.scale, pattern.duty)
        b = _stripes(coords, d2, pattern.scale, pattern.duty)
        thin = _stripes(coords, d1, pattern.scale / 3.0, 0.15) * _stripes(coords, d2, pattern.scale / 3.0, 1.0)
        out = _mix(base, second, np.clip(0.45 * a + 0.45 * b + 0.3 * thin, 0.0, 1.0))
    elif kind == "noise":  # blotchy, camouflage-like
        value = fbm(coords / pattern.scale, pattern.seed, 3)
        out = _mix(base, second, _smoothstep(0.45, 0.55, value))
    elif kind == "heather":  # fine mottled knit
        value = fbm(coords / (0.2 * pattern.scale), pattern.seed, 2) - 0.5
        out = base * (1.0 + 0.5 * pattern.contrast * value)[:, None]
    elif kind == "denim":
        diagonal = np.asarray(pattern.direction, dtype=np.float64) + _perpendicular(pattern.direction)
        twill = _stripes(coords, diagonal / np.linalg.norm(diagonal), 0.004, 0.5)
        value = fbm(coords / 0.02, pattern.seed, 2) - 0.5
        out = base * (1.0 + 0.15 * pattern.contrast * (twill - 0.5) + 0.4 * pattern.contrast * value)[:, None]
    elif kind == "skin":
        value = fbm(coords / 0.04, pattern.seed, 3) - 0.5
        spots = _smoothstep(0.72, 0.8, fbm(coords / 0.006, pattern.seed + 1, 1))
        out = base * (1.0 + 0.12 * pattern.contrast * value - 0.06 * pattern.contrast * spots)[:, None]
    elif kind == "hair":  # strands: noise stretched along the strand direction
        direction = np.asarray(pattern.direction, dtype=np.float64)
        direction = direction / np.linalg.norm(direction)
        e1 = _perpendicular(direction)
        e2 = np.cross(direction, e1)
        stretched = np.stack([coords @ e1 / 0.003, coords @ e2 / 0.003, coords @ direction / 0.06], axis=1)
        value = fbm(stretched, pattern.seed, 2) - 0.5
        out = base * (1.0 + 0.8 * pattern.contrast * value)[:, None]
    else:
        raise ValueError(f"unknown pattern kind {kind!r}")
    for logo in pattern.logos:
        inside = logo_mask(logo, coords)
        out[inside] = logo.color
    return np.clip(out, 0.0, 1.0)


def logo_mask(logo: Logo, coords: np.ndarray) -> np.ndarray:
    """(N,) bool: which texture coordinates fall inside the logo's shape."""
    normal = np.asarray(logo.normal, dtype=np.float64)
    u = _perpendicular(normal)
    v = np.cross(normal, u)
    c, s = np.cos(logo.angle), np.sin(logo.angle)
    u, v = c * u + s * v, -s * u + c * v
    offset = coords - np.asarray(logo.centre, dtype=np.float64)
    a, b, h = offset @ u / logo.radius, offset @ v / logo.radius, offset @ normal
    near = np.abs(h) < 0.5 * logo.radius  # only the surface around the centre, not the far side of a limb
    r = np.hypot(a, b)
    shape = logo.shape
    if shape == "disc":
        inside = r < 1.0
    elif shape == "ring":
        inside = (r < 1.0) & (r > 0.6)
    elif shape == "square":
        inside = (np.abs(a) < 0.8) & (np.abs(b) < 0.8)
    elif shape == "diamond":
        inside = np.abs(a) + np.abs(b) < 1.0
    elif shape == "triangle":
        inside = (b > -0.5) & (b < 1.0 - 1.7 * np.abs(a))
    elif shape == "bars":  # a word-like row of bars
        inside = (np.abs(b) < 0.3) & (np.abs(a) < 1.0) & (np.floor((a + 1.0) * 3.5) % 2 == 0)
    else:
        raise ValueError(f"unknown logo shape {shape!r}")
    return near & inside


def random_pattern(
    rng: np.random.Generator,
    kind: str | None = None,
    surface_points: np.ndarray | None = None,
    surface_normals: np.ndarray | None = None,
    logo_probability: float = 0.3,
) -> Pattern:
    """A random garment pattern (or the given ``kind``), possibly with logos.

    surface_points, surface_normals: (M, 3) texture coordinates and normals of
    the garment's vertices, where logos may be placed (none without them).
    """
    if kind is None:
        kind = str(rng.choice(["plain", "plain", "stripes", "checks", "plaid", "noise", "heather", "denim"]))
    color = tuple(float(x) for x in rng.uniform(0.05, 0.95, size=3)) if rng.random() < 0.6 else None
    direction = rng.normal(size=3) * np.array([0.3, 0.3, 1.0]) if rng.random() < 0.6 else rng.normal(size=3)
    direction /= np.linalg.norm(direction)
    scale = float(np.exp(rng.uniform(np.log(0.012), np.log(0.12))))
    logos: tuple[Logo, ...] = ()
    if surface_points is not None and surface_normals is not None and len(surface_points) and rng.random() < logo_probability:
        logos = random_logos(rng, surface_points, surface_normals, int(rng.integers(1, 3)))
    return Pattern(
        kind=kind,
        color=color,
        scale=scale,
        direction=tuple(float(x) for x in direction),
        duty=float(rng.uniform(0.2, 0.6)),
        contrast=float(rng.uniform(0.3, 1.0)),
        seed=int(rng.integers(2**31)),
        logos=logos,
    )


def random_logos(rng: np.random.Generator, points: np.ndarray, normals: np.ndarray, count: int) -> tuple[Logo, ...]:
    """``count`` logos centred on random vertices. points, normals: (M, 3)."""
    logos = []
    for index in rng.integers(len(points), size=count):
        normal = np.asarray(normals[index], dtype=np.float64)
        normal = normal / max(np.linalg.norm(normal), 1e-12)
        logos.append(Logo(
            centre=tuple(float(x) for x in points[index]),
            normal=tuple(float(x) for x in normal),
            radius=float(rng.uniform(0.03, 0.08)),
            shape=str(rng.choice(LOGO_SHAPES)),
            color=tuple(float(x) for x in rng.uniform(0.0, 1.0, size=3)),
            angle=float(rng.uniform(0.0, 2 * np.pi)),
        ))
    return tuple(logos)


def fbm(points: np.ndarray, seed: int, octaves: int) -> np.ndarray:
    """(N, 3) → (N,) fractal value noise in [0, 1] (octaves of ``value_noise``)."""
    total = np.zeros(len(points))
    amplitude, norm = 1.0, 0.0
    for octave in range(octaves):
        total += amplitude * value_noise(points * (2.0**octave), seed + 7919 * octave)
        norm += amplitude
        amplitude *= 0.5
    return total / norm


def value_noise(points: np.ndarray, seed: int) -> np.ndarray:
    """(N, 3) → (N,) smooth value noise in [0, 1] on a unit lattice."""
    rng = np.random.default_rng(seed)
    permutation = rng.permutation(256)
    values = rng.random(256)
    cell = np.floor(points)
    frac = points - cell
    cell = cell.astype(np.int64)
    weight = frac * frac * (3.0 - 2.0 * frac)  # smoothstep
    result = np.zeros(len(points))
    lower, upper = 1.0 - weight, weight
    for corner in range(8):
        dx, dy, dz = corner & 1, (corner >> 1) & 1, (corner >> 2) & 1
        h = permutation[(permutation[(permutation[(cell[:, 0] + dx) & 255] + cell[:, 1] + dy) & 255]
                         + cell[:, 2] + dz) & 255]
        w = (upper if dx else lower)[:, 0] * (upper if dy else lower)[:, 1] * (upper if dz else lower)[:, 2]
        result += w * values[h]
    return result


def _second_color(pattern: Pattern, base: np.ndarray) -> np.ndarray:
    if pattern.color is not None:
        second = np.broadcast_to(np.asarray(pattern.color, dtype=np.float64), base.shape)
    else:  # a lighter or darker shade of the base colour
        second = np.clip(base * 0.45 if base.mean() > 0.35 else base * 0.6 + 0.4, 0.0, 1.0)
    return base + max(pattern.contrast, 0.3) * (second - base)


def _mix(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    return a + (b - a) * t[:, None]


def _stripes(coords: np.ndarray, direction, period: float, duty: float) -> np.ndarray:
    """(N,) 0/1 with slightly softened edges."""
    phase = (coords @ np.asarray(direction, dtype=np.float64) / period) % 1.0
    edge = 0.03
    return _smoothstep(0.0, edge, phase) * (1.0 - _smoothstep(duty, duty + edge, phase))


def _smoothstep(lo: float, hi: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _perpendicular(vector) -> np.ndarray:
    """A unit vector perpendicular to ``vector`` (3,)."""
    vector = np.asarray(vector, dtype=np.float64)
    helper = np.array([1.0, 0.0, 0.0]) if abs(vector[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    perpendicular = np.cross(vector, helper)
    return perpendicular / np.linalg.norm(perpendicular)
