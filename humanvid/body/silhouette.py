"""Silhouette terms for body fitting: the body should lie inside the person mask, and the
mask's outline should be reached by the body.

Masks are used through two precomputed targets per frame (in the pixels of the mask image,
typically the 512-pixel crop):
- `outside_distance`: for each pixel, the distance to the nearest mask pixel (0 inside);
  sampled at the projected body vertices, it pulls body parts that stick out back in.
- `boundary`: up to M points on the mask's outline; each should have a projected body vertex
  nearby. Clothes and hair make the mask wider than the body, so this term is robust and
  weaker than the first.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from humanvid.body.fitting_losses import geman_mcclure


@dataclasses.dataclass
class SilhouetteObservations:
    """Silhouette targets of T frames.

    Attributes:
        outside_distance: (T, H, W) distance in mask pixels to the nearest mask pixel.
        boundary: (T, M, 2) outline points (x, y) in mask pixels, NaN-padded.
        affines: (T, 2, 3) full-frame pixels -> mask pixels ([u, v] = A @ [x, y, 1]).
        available: (T,) frames that have a mask.
    """

    outside_distance: torch.Tensor
    boundary: torch.Tensor
    affines: torch.Tensor
    available: torch.Tensor

    def index(self, frames) -> "SilhouetteObservations":
        return SilhouetteObservations(*(value[frames] for value in dataclasses.astuple(self)))


def silhouette_targets(mask: np.ndarray, max_boundary_points: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(H, W) boolean mask -> (H, W) float32 outside distance and (M, 2) float32 outline
    points (x, y), M <= max_boundary_points, evenly subsampled, NaN-padded to that length."""
    from scipy import ndimage

    mask = np.asarray(mask, dtype=bool)
    outline = np.full((max_boundary_points, 2), np.nan, dtype=np.float32)
    if not mask.any():
        return np.full(mask.shape, float(max(mask.shape)), dtype=np.float32), outline
    distance = ndimage.distance_transform_edt(~mask).astype(np.float32)
    edge = mask & ~ndimage.binary_erosion(mask)
    ys, xs = np.nonzero(edge)
    picks = np.linspace(0, len(xs) - 1, min(max_boundary_points, len(xs))).round().astype(int)
    outline[: len(picks)] = np.stack([xs[picks], ys[picks]], axis=1)
    return distance, outline


def to_mask_pixels(points: torch.Tensor, affines: torch.Tensor) -> torch.Tensor:
    """(T, N, 2) full-frame pixels, (T, 2, 3) affines -> (T, N, 2) mask pixels."""
    return points @ affines[:, :, :2].transpose(1, 2) + affines[:, None, :, 2]


def sample_map(image: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of (T, H, W) maps at (T, N, 2) pixel positions (pixel centres at
    integer coordinates; outside the map the border value, plus the distance beyond it).
    Gathers the four neighbours by flat index: unlike grid_sample its backward is cheap."""
    height, width = image.shape[-2:]
    clamped = torch.stack([points[..., 0].clamp(0, width - 1), points[..., 1].clamp(0, height - 1)], dim=-1)
    with torch.no_grad():
        corner = clamped.floor().clamp(max=torch.tensor([width - 2, height - 2], dtype=points.dtype))
        x0, y0 = corner[..., 0].long(), corner[..., 1].long()
    fraction = clamped - corner
    flat = image.reshape(image.shape[0], -1)
    base = y0 * width + x0

    def at(offset: int) -> torch.Tensor:
        return flat.gather(1, base + offset)

    fx, fy = fraction[..., 0], fraction[..., 1]
    top = at(0) * (1 - fx) + at(1) * fx
    bottom = at(width) * (1 - fx) + at(width + 1) * fx
    return top * (1 - fy) + bottom * fy + (points - clamped).norm(dim=-1)


def nearest_distance(targets: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """(T, M, 2), (T, N, 2) -> (T, M) distance from each target to its nearest point; the
    nearest point is found without gradient, then the distance to it recomputed with one
    (torch.cdist's backward is slow on CPU)."""
    with torch.no_grad():
        nearest = torch.cdist(targets, points).argmin(dim=-1)  # (T, M)
    chosen = points.gather(1, nearest[..., None].expand(-1, -1, 2))
    return (targets - chosen).square().sum(dim=-1).clamp_min(1e-12).sqrt()


def silhouette_losses(
    projected: torch.Tensor, targets: SilhouetteObservations, sigma: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Robust silhouette terms, each (T,) (0 for frames without a mask).

    Args:
        projected: (T, N, 2) projected body points (e.g. a fixed subset of the vertices) in
            full-frame pixels.
        sigma: Geman-McClure scale in mask pixels.
    Returns:
        inside: mean robust distance of the body points outside the mask;
        coverage: mean robust distance from the mask outline points to the nearest body point.
    """
    points = to_mask_pixels(projected, targets.affines.to(projected))
    outside = sample_map(targets.outside_distance.to(projected), points)
    inside = geman_mcclure(outside.square(), sigma).mean(dim=-1)
    boundary = targets.boundary.to(projected)
    valid = torch.isfinite(boundary).all(dim=-1)
    nearest = nearest_distance(torch.nan_to_num(boundary), points)
    robust = geman_mcclure(nearest.square(), sigma) * valid
    coverage = robust.sum(dim=-1) / valid.sum(dim=-1).clamp_min(1)
    available = targets.available.to(projected.device)
    return inside * available, coverage * available
