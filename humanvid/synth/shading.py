"""Random lights for synthetic scenes (the shading itself is :mod:`humanvid.render.shading`).

Directions are in the camera frame (OpenGL: x right, y up, the camera looks down −z).
"""

from __future__ import annotations

import numpy as np

from humanvid.render.shading import Lighting


def random_lighting(rng: np.random.Generator) -> Lighting:
    """A light from the camera's side of the person, usually from above, random warmth and strength."""
    azimuth = rng.uniform(-np.pi * 0.6, np.pi * 0.6)
    elevation = rng.uniform(-0.1, 1.2)
    direction = (np.sin(azimuth) * np.cos(elevation), np.sin(elevation), np.cos(azimuth) * np.cos(elevation))
    warmth = rng.uniform(-0.08, 0.08)
    return Lighting(
        direction=tuple(float(x) for x in direction),
        color=(1.0 + warmth, 1.0, 1.0 - warmth),
        ambient=float(rng.uniform(0.25, 0.55)),
        diffuse=float(rng.uniform(0.5, 0.9)),
        shadows=bool(rng.random() < 0.6),
    )
