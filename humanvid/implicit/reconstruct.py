"""One frame's clothed mesh from the network: the occupancy field inside the visual hull → surface.

The query box is the fitted body's bounding box grown by a margin (loose
clothes and hair reach beyond the body); points whose projection falls outside
the dilated person mask are empty without asking the network (visual hull), and
with a depth margin (`--depth-margin`) the occupancy is capped to a band that far
in front of and behind the fitted body along each pixel's ray (depth band): the
image does not show how deep the person is, and left alone the network makes
people too thick (the shipped network's meshes hold ~1.36× the true volume on
synthetic validation stills). On stills the band lowers Chamfer by ~8 %, so
`humanvid reconstruct` uses it for a single image; in a video the cut, which
follows each frame's body, flickers more (fusion steadies the meshes less), so
there it is off unless asked for.

Where the network reads the fitted body, its occupancy is also raised inside that body (its logit
+ BODY_PRIOR, reached BODY_PRIOR_REACH deep): a thin limb the fit put where the mask shows it is
kept even where the network's own answer is unsure (aligned Chamfer / P2S on synthetic validation
stills −1 % / −3 %).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage
import torch
import trimesh

from humanvid.geometry.body_distance import BodySurface, DistanceLattice
from humanvid.implicit.meshing import (Grid, KeepFn, OccupancyFn, evaluate_coarse_to_fine, extract_surface,
                                      grid_around)
from humanvid.implicit.network import EncodedImage, OccupancyNetwork
from humanvid.implicit.projection import crop_camera, project

BOX_MARGIN = 0.25  # metres around the fitted body
HULL_DILATION = 9  # crop pixels the mask is grown by before it culls points
SDF_SPACING = 0.03  # metres between the nodes the body SDF is interpolated from
DEPTH_MARGIN = 0.0  # metres; the depth band of a video (`humanvid reconstruct --depth-margin`); 0: none
PHOTO_DEPTH_MARGIN = 0.07  # metres; the depth band of a single image
BAND_CELL = 4  # crop pixels per cell of the body's depth range
BAND_SMOOTHING = 1.0  # cells: Gaussian over the band's near and far depths
BODY_PRIOR = 1.0  # logit added to the occupancy inside the fitted body (networks that read the body)
BODY_PRIOR_REACH = 0.02  # metres inside the body's surface at which the whole prior is added
PRIOR_BOX_MARGIN = 2 * SDF_SPACING  # metres around the body covered by the prior's distance lattice


@dataclass
class FrameInputs:
    """What the network needs of one frame (arrays as written by preprocessing and fitting)."""

    crop: np.ndarray  # (512, 512, 3) uint8 RGB
    mask: np.ndarray  # (512, 512) uint8
    intrinsics: np.ndarray  # (4,) fx, fy, cx, cy of the full frame
    affine: np.ndarray  # (2, 3) full frame → crop
    keypoints: np.ndarray  # (33, 3) fitted body keypoints, camera frame (NaN where missing)
    body_vertices: np.ndarray  # (V, 3) fitted body, camera frame
    body_faces: np.ndarray | None = None  # (F, 3) of the body mesh; needed by networks with the body SDF


@dataclass
class EncodedFrame:
    encoded: EncodedImage
    camera: torch.Tensor  # (1, 3, 3) crop camera
    keypoints: torch.Tensor  # (1, 33, 3)
    body: DistanceLattice | None = None  # the body SDF around the body (body-SDF feature, body prior)
    body_prior: float = 0.0  # logit added inside the body (reached BODY_PRIOR_REACH deep); 0: none

    def raised_by_body(self, logits: torch.Tensor, body_sdf: np.ndarray) -> torch.Tensor:
        """(1, N) logits, (N,) signed distances to the body → the logits with the body prior added."""
        inside = np.clip(-body_sdf / BODY_PRIOR_REACH, 0.0, 1.0).astype(np.float32)
        return logits + self.body_prior * torch.from_numpy(inside)[None].to(logits.device)


@torch.no_grad()
def encode_frame(network: OccupancyNetwork, frame: FrameInputs, device: str = "cpu",
                 body_prior: float = BODY_PRIOR) -> EncodedFrame:
    """The frame's image features, crop camera and keypoints; with the body mesh (FrameInputs.body_faces)
    and a network that reads the body, also the body SDF lattice and the `body_prior` it raises the
    occupancy by (0: none)."""
    if network.config.body_sdf and frame.body_faces is None:
        raise ValueError("this network needs the body mesh (FrameInputs.body_faces) for its body-SDF feature")
    reads_body = network.config.body_sdf or network.config.keypoint_encoding
    body_prior = body_prior if reads_body and frame.body_faces is not None else 0.0
    body = None
    if network.config.body_sdf or body_prior > 0:
        # The prior alone needs the distance only inside the body: a lattice just around it is enough (3x cheaper).
        low, high = body_box(frame) if network.config.body_sdf else body_box(frame, PRIOR_BOX_MARGIN)
        body = BodySurface(frame.body_vertices, frame.body_faces).lattice(low, high, SDF_SPACING)
    image = torch.from_numpy(frame.crop).permute(2, 0, 1)[None].float().to(device) / 255.0
    mask = torch.from_numpy(frame.mask)[None, None].float().to(device) / 255.0
    camera = crop_camera(torch.tensor(frame.intrinsics[None], dtype=torch.float32),
                         torch.tensor(frame.affine[None], dtype=torch.float32)).to(device)
    keypoints = torch.tensor(frame.keypoints[None], dtype=torch.float32, device=device)
    return EncodedFrame(network.encode(image, mask), camera, keypoints, body, body_prior)


def occupancy_function(network: OccupancyNetwork, frame: EncodedFrame, batch: int = 65_536) -> OccupancyFn:
    """(N, 3) camera-frame points → (N,) occupancy probabilities of this frame."""
    device = frame.camera.device

    @torch.no_grad()
    def occupancy(points: np.ndarray) -> np.ndarray:
        out = np.empty(len(points), np.float32)
        for start in range(0, len(points), batch):
            part = np.ascontiguousarray(points[start:start + batch], np.float32)
            chunk = torch.from_numpy(part)[None].to(device)
            distance = None if frame.body is None else frame.body.signed_distance(part).astype(np.float32)
            body_sdf = torch.from_numpy(distance)[None].to(device) if network.config.body_sdf else None
            logits = network.query(frame.encoded, chunk, frame.camera, frame.keypoints, body_sdf)
            if frame.body_prior > 0:
                logits = frame.raised_by_body(logits, distance)
            out[start:start + batch] = torch.sigmoid(logits)[0].cpu().numpy()
        return out

    return occupancy


PixelsFn = Callable[[np.ndarray], np.ndarray]


def crop_pixels(frame: FrameInputs) -> PixelsFn:
    """(N, 3) camera-frame points → (N, 2) their pixels in the frame's 512×512 crop."""
    camera = crop_camera(torch.tensor(frame.intrinsics[None], dtype=torch.float32),
                         torch.tensor(frame.affine[None], dtype=torch.float32))

    def pixels(points: np.ndarray) -> np.ndarray:
        return project(torch.from_numpy(np.ascontiguousarray(points[None], np.float32)), camera)[0].numpy()

    return pixels


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


def both(first: KeepFn, second: KeepFn) -> KeepFn:
    """Points both keep; `second` is asked only about the points `first` keeps."""
    def keep(points: np.ndarray) -> np.ndarray:
        result = first(points)
        chosen = np.flatnonzero(result)
        result[chosen] = second(points[chosen])
        return result

    return keep


def frame_band(frame: FrameInputs, grid: Grid, depth_margin: float) -> DepthBand | None:
    """The frame's depth band for meshing on `grid` (edges one voxel soft), or None without a margin."""
    return depth_band(frame, depth_margin, grid.voxel) if depth_margin > 0 else None


def frame_keep(frame: FrameInputs, band: DepthBand | None = None) -> KeepFn:
    """Where the frame's surface is sought: the visual hull, and within the depth band if there is one."""
    return visual_hull(frame) if band is None else both(visual_hull(frame), band.keep)


def body_box(frame: FrameInputs, margin: float = BOX_MARGIN) -> tuple[np.ndarray, np.ndarray]:
    """(3,) low and high corner of the fitted body's box grown by `margin` [m] (BOX_MARGIN: where the
    surface is sought)."""
    return frame.body_vertices.min(axis=0) - margin, frame.body_vertices.max(axis=0) + margin


def frame_grid(frame: FrameInputs, resolution: int = 256, coarse_step: int = 8) -> Grid:
    """The lattice a frame is meshed on: the body box, `resolution` cells along its longest side."""
    return grid_around(*body_box(frame), resolution, coarse_step)


def mesh_frame(occupancy: OccupancyFn, frame: FrameInputs, resolution: int = 256,
               coarse_step: int = 8, depth_margin: float = 0.0) -> trimesh.Trimesh:
    """The watertight surface of the occupancy at 0.5 where frame_keep keeps, in the camera frame [m]."""
    grid = frame_grid(frame, resolution, coarse_step)
    band = frame_band(frame, grid, depth_margin)
    volume, _ = evaluate_coarse_to_fine(banded(occupancy, band), grid, coarse_step, keep=frame_keep(frame, band))
    return extract_surface(volume, grid)
