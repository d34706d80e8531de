"""The full-frame pinhole camera that every stage shares."""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_VERTICAL_FOV_DEG = 55.0


@dataclass(frozen=True)
class Camera:
    """Full-frame pinhole intrinsics [px]; pixel centres at integer coordinates."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def for_frame(cls, width: int, height: int, focal: float | None = None) -> "Camera":
        if focal is None:
            focal = 0.5 * height / math.tan(math.radians(DEFAULT_VERTICAL_FOV_DEG) / 2.0)
        return cls(float(focal), float(focal), (width - 1) / 2.0, (height - 1) / 2.0, width, height)

    def as_dict(self) -> dict:
        return {
            "fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy,
            "width": self.width, "height": self.height,
            "convention": "OpenGL camera frame: x right, y up, camera at the origin looking down -z; "
                          "pixel centres at integer coordinates, origin top-left",
        }
