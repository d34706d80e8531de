"""A person's texture, baked from the frames: each texel's colour from the views that saw its point.

For every view (a frame's posed mesh, its crop, its person mask and its crop camera) each texel's surface
point is projected into the crop. A view's sample of a texel is weighted by what the view can know:

- visible: rasterising the posed mesh gives the first surface per pixel; a point deeper than it by more
  than ``DEPTH_TOLERANCE`` is hidden (by another part of the body, or the far side);
- facing: cos² of the angle between the surface normal and the direction to the camera (grazing views
  stretch and blur the image over the surface);
- inside the silhouette: a ramp over the first ``EDGE_PX`` pixels inside the person mask (pixels on the
  outline mix person and background);
- registered: the IoU of the posed mesh's silhouette with the person mask, to the power
  ``REGISTRATION_POWER`` (a frame whose fit is off paints the wrong part of the image onto the surface);
- sharp: the frame's variance of the Laplacian inside the mask relative to the median frame's, clipped to
  [``SHARPNESS_FLOOR``, 1] (motion blur).

Blending is robust: the anchor is each texel's weighted median sample (by luminance), and samples far in
colour from it are down-weighted by a Gaussian of ``COLOUR_SIGMA``, so an arm passing in front in a few
frames, or a badly fitted frame, does not smear in. Texels that no view saw facing it take the colour
"through" the body: the mean colour of the pixels their point projects to inside the mask (the front's
colour for a back never seen: a single image's back is its front, mirrored in depth), blended in where
direct evidence is weak. Texels outside every view's mask are filled smoothly over the surface (harmonic
interpolation of vertex colours over the mesh's edges). The gutters between charts take the colour of the
nearest chart texel, so filtering and mipmaps do not bleed the background in.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import scipy.sparse
import scipy.sparse.linalg
import trimesh

from humanvid.camera import Camera
from humanvid.render.raster import rasterize
from humanvid.render.textured import sample
from humanvid.texture.atlas import TexelSurface, UvAtlas

DEPTH_TOLERANCE = 0.015  # m a point may lie behind the first surface along its ray and still be seen
EDGE_PX = 6.0  # px inside the mask over which a view's trust ramps up from 0
FACING_POWER = 2  # a view's weight falls as cos^FACING_POWER of the angle between the normal and the view
SHARPNESS_FLOOR = 0.3  # weight of the blurriest frames
REGISTRATION_POWER = 8  # a view's weight: its silhouette IoU to this power (0.9: 0.43, 0.75: 0.10)
COLOUR_SIGMA = 24.0  # colour distance (0–255 RGB) at which a sample's weight falls to e^-1/2 of its own
FULL_WEIGHT = 0.25  # total direct weight at which the through-the-body colour no longer shows
LUMINANCE = np.array([0.299, 0.587, 0.114])


@dataclass
class View:
    """One frame as the baker reads it."""

    vertices: np.ndarray  # (V, 3) the mesh posed in this frame (camera frame, metres)
    image: np.ndarray  # (S, S, 3) uint8 RGB crop
    mask: np.ndarray  # (S, S) uint8 person mask of the crop (255 inside)
    camera: Camera  # the crop's camera


@dataclass
class BakeStats:
    views: int  # frames read
    seen: float  # share of texels some view saw facing it
    through: float  # share coloured only through the body (seen from the other side)
    filled: float  # share filled over the surface (outside every view's mask)


class TextureBaker:
    """Collects the views' samples of every texel; ``texture`` blends them."""

    def __init__(self, atlas: UvAtlas, surface: TexelSurface, faces: np.ndarray, capacity: int):
        self.atlas, self.surface, self.faces = atlas, surface, np.asarray(faces, np.int64)
        self.to_texels = surface.interpolation(self.faces, int(self.faces.max()) + 1)
        count = len(surface.face)
        self.colours = np.zeros((capacity, count, 3), np.uint8)
        self.weights = np.zeros((capacity, count), np.float32)
        self.sharpness = np.zeros(capacity)
        self.through = np.zeros((count, 3))
        self.through_weight = np.zeros(count)
        self.views = 0

    def add(self, view: View) -> None:
        """Sample one view (at most `capacity` views)."""
        if self.views == len(self.weights):
            raise ValueError(f"the baker holds {len(self.weights)} views")
        mesh = trimesh.Trimesh(view.vertices, self.faces, process=False)
        points = self.to_texels @ np.asarray(view.vertices, np.float64)
        normals = self.to_texels @ np.asarray(mesh.vertex_normals)
        pixels, depth = view.camera.project(points)
        size = view.mask.shape[0]
        cols, rows = np.rint(pixels).astype(np.int64).T
        inside = (rows >= 0) & (rows < size) & (cols >= 0) & (cols < size) & (depth > 0)
        rows, cols = rows.clip(0, size - 1), cols.clip(0, size - 1)
        first = rasterize(np.asarray(view.vertices, np.float64), self.faces, view.camera).depth
        person = view.mask > 127
        drawn = first > 0
        iou = (drawn & person).sum() / max((drawn | person).sum(), 1)
        visible = inside & (first[rows, cols] > 0) & (depth <= first[rows, cols] + DEPTH_TOLERANCE)
        to_camera = view.camera.position - points
        cosine = np.einsum("ij,ij->i", normals, to_camera) / np.maximum(
            np.linalg.norm(normals, axis=1) * np.linalg.norm(to_camera, axis=1), 1e-12)
        ramp = np.clip(cv2.distanceTransform(person.astype(np.uint8), cv2.DIST_L2, 3) / EDGE_PX, 0.0, 1.0)
        trust = np.where(inside, ramp[rows, cols], 0.0)
        colours = sample(view.image, pixels)
        slot = self.views
        self.colours[slot] = colours
        self.weights[slot] = np.where(visible, trust * np.clip(cosine, 0.0, 1.0) ** FACING_POWER, 0.0) \
            * iou ** REGISTRATION_POWER
        self.sharpness[slot] = _sharpness(view.image, person)
        self.through += trust[:, None] * colours
        self.through_weight += trust
        self.views += 1

    def texture(self) -> tuple[np.ndarray, BakeStats]:
        """The (S, S, 3) uint8 RGB texture (row 0 at the top: v = 1) and what coloured it."""
        count = self.views
        colours, weights = self.colours[:count], self.weights[:count].copy()
        if count:
            sharp = self.sharpness[:count] / max(float(np.median(self.sharpness[:count])), 1e-12)
            weights *= np.clip(sharp, SHARPNESS_FLOOR, 1.0).astype(np.float32)[:, None]
        total = weights.sum(axis=0, dtype=np.float64)
        anchor = _weighted_median(colours, weights, total)
        seen_colour = np.zeros((colours.shape[1], 3))
        robust_total = np.zeros(colours.shape[1])
        for k in range(count):  # one view at a time: (N, 3) arrays, not (K, N, 3)
            sample = colours[k].astype(np.float32)
            robust = weights[k] * np.exp(-((sample - anchor) ** 2).sum(axis=1) / np.float32(2.0 * COLOUR_SIGMA**2))
            seen_colour += robust[:, None] * sample
            robust_total += robust
        seen_colour /= np.maximum(robust_total, 1e-12)[:, None]
        through = self.through / np.maximum(self.through_weight, 1e-12)[:, None]
        has_through = self.through_weight > 1e-6
        alpha = np.clip(total / FULL_WEIGHT, 0.0, 1.0)[:, None]
        colour = np.where(has_through[:, None], alpha * seen_colour + (1.0 - alpha) * through, seen_colour)
        known = (total > 1e-6) | has_through
        colour[~known] = self._fill(colour, known)[~known]
        stats = BakeStats(count, float(np.mean(total > 1e-6)), float(np.mean(has_through & (total <= 1e-6))),
                          float(np.mean(~known)))
        return self._image(colour), stats

    def _fill(self, colour: np.ndarray, known: np.ndarray) -> np.ndarray:
        """(N, 3) colours interpolated over the surface from the texels `known`."""
        vertex_count = int(self.faces.max()) + 1
        corners = self.faces[self.surface.face]  # (N, 3)
        weights = self.surface.barycentric * known[:, None]
        mass = np.bincount(corners.ravel(), weights.ravel(), vertex_count)
        sums = np.stack([np.bincount(corners.ravel(), (weights * colour[:, c:c + 1]).ravel(), vertex_count)
                         for c in range(3)], axis=1)
        fixed = mass > 1e-9
        vertex_colour = np.zeros((vertex_count, 3))
        vertex_colour[fixed] = sums[fixed] / mass[fixed, None]
        if not fixed.any():
            return np.full_like(colour, 128.0)
        free = np.nonzero(~fixed)[0]
        if len(free):
            edges = np.concatenate([self.faces[:, [0, 1]], self.faces[:, [1, 2]], self.faces[:, [2, 0]]])
            adjacency = scipy.sparse.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])),
                                                shape=(vertex_count, vertex_count)).tocsr()
            adjacency = ((adjacency + adjacency.T) > 0).astype(np.float64)
            laplacian = scipy.sparse.diags(np.asarray(adjacency.sum(axis=1)).ravel()) - adjacency
            inner = laplacian[free][:, free] + 1e-6 * scipy.sparse.eye(len(free))  # islands with no known colour
            border = -laplacian[free][:, np.nonzero(fixed)[0]] @ vertex_colour[fixed]
            vertex_colour[free] = scipy.sparse.linalg.spsolve(inner.tocsc(), border).reshape(len(free), 3)
            isolated = np.asarray(adjacency[free][:, np.nonzero(fixed)[0]].sum(axis=1)).ravel() == 0
            if isolated.all():
                vertex_colour[free] = vertex_colour[fixed].mean(axis=0)
        return np.einsum("nk,nkc->nc", self.surface.barycentric, vertex_colour[corners])

    def _image(self, colour: np.ndarray) -> np.ndarray:
        """Texels written into the page; every other texel takes the colour of the nearest chart texel."""
        size = self.atlas.size
        image = np.zeros((size, size, 3), np.uint8)
        image[self.surface.rows, self.surface.cols] = np.clip(colour + 0.5, 0, 255).astype(np.uint8)
        empty = np.ones((size, size), np.uint8)
        empty[self.surface.rows, self.surface.cols] = 0
        if not empty.all():
            _, labels = cv2.distanceTransformWithLabels(empty, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL)
            source_rows, source_cols = np.nonzero(empty == 0)  # labels number the zero pixels in row-major order
            nearest = labels - 1
            image = image[source_rows[nearest], source_cols[nearest]]
        return image


def _weighted_median(colours: np.ndarray, weights: np.ndarray, total: np.ndarray) -> np.ndarray:
    """(N, 3) float32 per texel the sample at the weighted median of luminance over the (K, N, 3) samples."""
    if not len(colours):
        return np.zeros(colours.shape[1:], np.float32)
    order = np.argsort(colours @ LUMINANCE.astype(np.float32), axis=0, kind="stable")
    cumulative = np.cumsum(np.take_along_axis(weights, order, axis=0), axis=0)
    at = np.argmax(cumulative >= 0.5 * total[None], axis=0)
    chosen = order[at, np.arange(colours.shape[1])]
    return colours[chosen, np.arange(colours.shape[1])].astype(np.float32)


def _sharpness(image: np.ndarray, person: np.ndarray) -> float:
    """Variance of the Laplacian of the grey image inside the (eroded) person mask."""
    inner = cv2.erode(person.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if not inner.any():
        return 0.0
    laplacian = cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.CV_64F)
    return float(laplacian[inner].var())
