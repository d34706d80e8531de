"""The depth band (`--depth-margin`): the occupancy capped to a margin in front of and behind the fitted body.

An image does not show how deep the person is, and left alone the network makes people too thick
(the shipped network's meshes hold ~1.36× the true volume on synthetic validation stills). Capped to
the band along each pixel's ray, stills lose ~8 % of their Chamfer distance; in a video the cut,
which follows each frame's body, flickers, so there the band is off unless asked for
(humanvid.constants: PHOTO_DEPTH_MARGIN, VIDEO_DEPTH_MARGIN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from humanvid.implicit.inference.frame import FrameInputs, PixelsFn, crop_pixels
from humanvid.implicit.inference.meshing import Grid, OccupancyFn

BAND_CELL = 4  # crop pixels per cell of the body's depth range
BAND_SMOOTHING = 1.0  # cells: Gaussian over the band's near and far depths


@dataclass(frozen=True)
class DepthBand:
    """The fitted body's depth range along each crop pixel's ray, grown by a margin.

    `near` and `far` hold, per `cell`-pixel cell of the crop, the body's nearest and farthest
    vertex depth (spread to the neighbouring cells, smoothed, the margin added); between cell
    centres they are interpolated bilinearly, so the cut is a smooth surface, not a staircase of
    cells. Where no body is near (a limb the fit put elsewhere) every depth is kept: the band
    never cuts what the mask shows.
    """

    pixels_of: PixelsFn
    near: np.ndarray  # (C, C) depth along −z [m]; inf where no body is near
    far: np.ndarray  # (C, C) [m]; −inf where no body is near
    cell: int  # crop pixels per cell
    ramp: float  # metres over which the cap falls from 1 to 0 across the band's edge

    def cap(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) → (N,) in [0, 1]: 1 inside the band and where no body is near, 0.5 on its edge,
        0 from `ramp` beyond it. The occupancy is capped by it (`banded`), which places the cut
        surface on the band's edge to within a fraction of a voxel."""
        cells = self.near.shape[0]
        position = self.pixels_of(points) / self.cell - 0.5  # in cell-centre coordinates
        low = np.floor(position).astype(int)
        fraction = position - low
        near, far = np.zeros(len(points)), np.zeros(len(points))
        unbounded = np.zeros(len(points), bool)
        for du in (0, 1):
            for dv in (0, 1):
                column, row = np.clip(low[:, 0] + du, 0, cells - 1), np.clip(low[:, 1] + dv, 0, cells - 1)
                weight = (fraction[:, 0] if du else 1 - fraction[:, 0]) * (fraction[:, 1] if dv else 1 - fraction[:, 1])
                corner_near, corner_far = self.near[row, column], self.far[row, column]
                finite = np.isfinite(corner_near)
                unbounded |= ~finite & (weight > 0)
                near += weight * np.where(finite, corner_near, 0.0)
                far += weight * np.where(finite, corner_far, 0.0)
        distance = -points[:, 2].astype(np.float64)
        inside = np.minimum(distance - near, far - distance)  # metres inside the band (< 0: outside)
        cap = np.clip(0.5 + 0.5 * inside / self.ramp, 0.0, 1.0)
        cap[unbounded] = 1.0
        return cap.astype(np.float32)

    def keep(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) → (N,) bool: points the cap leaves anything of."""
        return self.cap(points) > 0


def depth_band(frame: FrameInputs, margin: float, ramp: float, cell: int = BAND_CELL,
               smoothing: float = BAND_SMOOTHING) -> DepthBand:
    """The band of points at most `margin` [m] nearer or farther than the fitted body along their
    pixel's ray; its edge is `ramp` [m] soft (a voxel of the lattice it is meshed on)."""
    pixels_of, size = crop_pixels(frame), frame.mask.shape[0]
    cells = -(-size // cell)
    index = np.clip(np.floor(pixels_of(frame.body_vertices) / cell).astype(int), 0, cells - 1)
    at = (index[:, 1], index[:, 0])
    depth = -frame.body_vertices[:, 2].astype(np.float64)
    near, far = np.full((cells, cells), np.inf), np.full((cells, cells), -np.inf)
    np.minimum.at(near, at, depth)
    np.maximum.at(far, at, depth)
    near, far = ndimage.minimum_filter(near, 3), ndimage.maximum_filter(far, 3)
    covered = np.isfinite(near)
    if smoothing > 0:  # a Gaussian over the covered cells only (normalised convolution)
        weight = np.maximum(ndimage.gaussian_filter(covered.astype(float), smoothing), 1e-9)
        near = np.where(covered, ndimage.gaussian_filter(np.where(covered, near, 0.0), smoothing) / weight, np.inf)
        far = np.where(covered, ndimage.gaussian_filter(np.where(covered, far, 0.0), smoothing) / weight, -np.inf)
    return DepthBand(pixels_of, near - margin, far + margin, cell, ramp)


def banded(occupancy: OccupancyFn, band: DepthBand | None) -> OccupancyFn:
    """The occupancy capped by the band (unchanged without one)."""
    if band is None:
        return occupancy

    def capped(points: np.ndarray) -> np.ndarray:
        return np.minimum(occupancy(points), band.cap(points))

    return capped


def frame_band(frame: FrameInputs, grid: Grid, depth_margin: float) -> DepthBand | None:
    """The frame's depth band for meshing on `grid` (edges one voxel soft), or None without a margin."""
    return depth_band(frame, depth_margin, grid.voxel) if depth_margin > 0 else None
