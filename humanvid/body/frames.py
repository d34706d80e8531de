"""Coordinate frames of the body models and the output frame.

Output frame (DESIGN.md): the OpenGL camera convention, x right, y up, the camera at the
origin looking down -z. A body "upright, facing the camera" stands along +y and faces +z,
so its left side is on +x (the viewer's right).

Anny's native world frame: z up, the body faces -y, its left side on +x.
SMPL / SMPL-X native frame: y up, the body faces +z, its left side on +x, i.e. already
upright and facing the camera.
"""

from __future__ import annotations

import torch

# Rows: output axes expressed in Anny axes. x stays, up (Anny z) becomes y, and the
# facing direction (Anny -y) becomes +z. A rotation of -90 degrees about x.
ANNY_TO_UPRIGHT_ROWS = ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.0, -1.0, 0.0))

# OpenCV camera (x right, y down, looking down +z) <-> OpenGL camera: flip y and z.
OPENCV_TO_OPENGL_ROWS = ((1.0, 0.0, 0.0), (0.0, -1.0, 0.0), (0.0, 0.0, -1.0))


def anny_to_upright_matrix(dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> torch.Tensor:
    """(3, 3) rotation taking Anny world coordinates to the upright, facing-the-camera frame."""
    return torch.tensor(ANNY_TO_UPRIGHT_ROWS, dtype=dtype, device=device)


def anny_to_upright(points: torch.Tensor) -> torch.Tensor:
    """(..., 3) points in Anny world -> the same points upright, facing +z (output frame axes)."""
    return points @ anny_to_upright_matrix(points.dtype, points.device).T


def upright_to_anny(points: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`anny_to_upright`."""
    return points @ anny_to_upright_matrix(points.dtype, points.device)


def opencv_to_opengl(points: torch.Tensor) -> torch.Tensor:
    """(..., 3) camera-frame points, OpenCV axes -> OpenGL axes (its own inverse)."""
    return points @ torch.tensor(OPENCV_TO_OPENGL_ROWS, dtype=points.dtype, device=points.device).T
