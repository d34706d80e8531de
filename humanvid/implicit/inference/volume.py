"""A frame's occupancy sampled where its surface may be, and its watertight mesh.

The query lattice covers the fitted body's box grown by BOX_MARGIN (loose clothes and hair reach
beyond the body); points whose projection falls outside the dilated person mask are empty without
asking the network (visual hull), and with a depth band only points inside it are asked. The field is
evaluated coarse to fine (humanvid.implicit.inference.meshing) and meshed by marching cubes.
"""

from __future__ import annotations

import cv2
import numpy as np
import trimesh

from humanvid.implicit.inference.depth_band import DepthBand, banded, frame_band
from humanvid.implicit.inference.frame import FrameInputs, body_box, crop_pixels
from humanvid.implicit.inference.meshing import (Grid, KeepFn, OccupancyFn, evaluate_coarse_to_fine,
                                                 extract_surface, grid_around)

COARSE_STEP = 8  # lattice step of the first, coarse evaluation (a power of two)
HULL_DILATION = 9  # crop pixels the mask is grown by before it culls points


def visual_hull(frame: FrameInputs, dilation: int = HULL_DILATION) -> KeepFn:
    """Points that project inside the (dilated) person mask and lie in front of the camera."""
    grown = cv2.dilate((frame.mask > 127).astype(np.uint8), np.ones((2 * dilation + 1,) * 2, np.uint8)) > 0
    pixels_of = crop_pixels(frame)

    def keep(points: np.ndarray) -> np.ndarray:
        pixels = pixels_of(points)
        columns, rows = np.round(pixels[:, 0]).astype(int), np.round(pixels[:, 1]).astype(int)
        size = grown.shape[0]
        inside = (columns >= 0) & (columns < size) & (rows >= 0) & (rows < size) & (points[:, 2] < 0)
        result = np.zeros(len(points), bool)
        result[inside] = grown[rows[inside], columns[inside]]
        return result

    return keep


def both(first: KeepFn, second: KeepFn) -> KeepFn:
    """Points both keep; `second` is asked only about the points `first` keeps."""
    def keep(points: np.ndarray) -> np.ndarray:
        result = first(points)
        chosen = np.flatnonzero(result)
        result[chosen] = second(points[chosen])
        return result

    return keep


def frame_keep(frame: FrameInputs, band: DepthBand | None = None) -> KeepFn:
    """Where the frame's surface is sought: the visual hull, and within the depth band if there is one."""
    return visual_hull(frame) if band is None else both(visual_hull(frame), band.keep)


def frame_grid(frame: FrameInputs, resolution: int = 256, coarse_step: int = COARSE_STEP) -> Grid:
    """The lattice a frame is meshed on: the body box, `resolution` cells along its longest side."""
    return grid_around(*body_box(frame), resolution, coarse_step)


def frame_volume(occupancy: OccupancyFn, frame: FrameInputs, grid: Grid, band: DepthBand | None = None,
                 coarse_step: int = COARSE_STEP) -> np.ndarray:
    """(X, Y, Z) float32 occupancy on `grid`, capped by the band if there is one; evaluated coarse to fine
    only where frame_keep keeps (empty elsewhere)."""
    volume, _ = evaluate_coarse_to_fine(banded(occupancy, band), grid, coarse_step, keep=frame_keep(frame, band))
    return volume


def mesh_frame(occupancy: OccupancyFn, frame: FrameInputs, resolution: int = 256,
               coarse_step: int = COARSE_STEP, depth_margin: float = 0.0) -> trimesh.Trimesh:
    """The watertight surface of the occupancy at 0.5 where frame_keep keeps, in the camera frame [m]."""
    grid = frame_grid(frame, resolution, coarse_step)
    band = frame_band(frame, grid, depth_margin)
    return extract_surface(frame_volume(occupancy, frame, grid, band, coarse_step), grid)
