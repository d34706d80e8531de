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
        # Not dataclasses.astuple: it deep-copies every tensor.
        return SilhouetteObservations(*(getattr(self, field.name)[frames] for field in dataclasses.fields(self)))


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


def nearest_candidates(targets: torch.Tensor, points: torch.Tensor, count: int) -> torch.Tensor:
    """(T, M, 2), (T, N, 2) -> (T, M, K) indices of the K = min(count, N) points nearest to each target."""
    with torch.no_grad():
        distances = torch.cdist(targets, points)
        return distances.topk(min(count, points.shape[1]), dim=-1, largest=False).indices


def nearest_distance(targets: torch.Tensor, points: torch.Tensor, candidates: torch.Tensor | None = None) -> torch.Tensor:
    """(T, M, 2), (T, N, 2) -> (T, M) distance from each target to its nearest point.

    candidates: optional (T, M, K) indices of the points to consider for each target
    (nearest_candidates, found once while the points move little); without them every point
    is searched. The search has no gradient; the distance to the chosen point is recomputed
    with one (torch.cdist's backward is slow on CPU).
    """
    if candidates is None:
        candidates = nearest_candidates(targets, points, 1)
    frames, count, choices = candidates.shape
    chosen = points.gather(1, candidates.reshape(frames, -1, 1).expand(-1, -1, 2)).reshape(frames, count, choices, 2)
    squared = (targets[:, :, None] - chosen).square().sum(dim=-1).min(dim=-1).values
    return squared.clamp_min(1e-12).sqrt()


def boundary_candidates(projected: torch.Tensor, targets: SilhouetteObservations, count: int) -> torch.Tensor:
    """(T, N, 2) projected body points in full-frame pixels -> (T, M, K) indices of the body
    points nearest to each mask outline point, for silhouette_losses while the body moves little."""
    points = to_mask_pixels(projected, targets.affines.to(projected))
    return nearest_candidates(torch.nan_to_num(targets.boundary.to(projected)), points, count)


def silhouette_losses(
    projected: torch.Tensor, targets: SilhouetteObservations, sigma: float, candidates: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Robust silhouette terms, each (T,) (0 for frames without a mask).

    Args:
        projected: (T, N, 2) projected body points (e.g. a fixed subset of the vertices) in
            full-frame pixels.
        sigma: Geman-McClure scale in mask pixels.
        candidates: optional (T, M, K) body points to search for each outline point
            (boundary_candidates); all of them without.
    Returns:
        inside: mean robust distance of the body points outside the mask;
        coverage: mean robust distance from the mask outline points to the nearest body point.
    """
    points = to_mask_pixels(projected, targets.affines.to(projected))
    outside = sample_map(targets.outside_distance.to(projected), points)
    inside = geman_mcclure(outside.square(), sigma).mean(dim=-1)
    boundary = targets.boundary.to(projected)
    valid = torch.isfinite(boundary).all(dim=-1)
    nearest = nearest_distance(torch.nan_to_num(boundary), points, candidates)
    robust = geman_mcclure(nearest.square(), sigma) * valid
    coverage = robust.sum(dim=-1) / valid.sum(dim=-1).clamp_min(1)
    available = targets.available.to(projected.device)
    return inside * available, coverage * available
