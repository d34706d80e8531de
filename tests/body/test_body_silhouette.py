import numpy as np
import pytest
import torch

from humanvid.body.silhouette import (
    SilhouetteObservations,
    boundary_candidates,
    nearest_candidates,
    nearest_distance,
    sample_map,
    silhouette_losses,
    silhouette_targets,
)


def _square_mask():
    mask = np.zeros((40, 60), dtype=bool)
    mask[10:30, 20:40] = True
    return mask


def test_targets_of_a_square_mask():
    distance, outline = silhouette_targets(_square_mask(), max_boundary_points=32)
    assert distance[20, 30] == 0.0 and distance[20, 45] == pytest.approx(6.0)
    assert outline.shape == (32, 2) and np.isfinite(outline).all()
    xs, ys = outline[:, 0], outline[:, 1]
    assert ((xs == 20) | (xs == 39) | (ys == 10) | (ys == 29)).all()
    empty_distance, empty_outline = silhouette_targets(np.zeros((8, 8), dtype=bool))
    assert np.isnan(empty_outline).all() and (empty_distance > 0).all()


def test_sample_map_is_bilinear_and_grows_outside():
    image = torch.arange(12.0).reshape(1, 3, 4)
    points = torch.tensor([[[1.0, 1.0], [1.5, 1.0], [3.0, 2.0], [5.0, 2.0]]])
    assert sample_map(image, points)[0].tolist() == pytest.approx([5.0, 5.5, 11.0, 13.0])


def _targets(mask, frames=1):
    distance, outline = silhouette_targets(mask, max_boundary_points=64)
    affine = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]).expand(frames, 2, 3)
    return SilhouetteObservations(
        torch.tensor(distance).expand(frames, -1, -1),
        torch.tensor(outline).expand(frames, -1, -1),
        affine,
        torch.ones(frames, dtype=torch.bool),
    )


def test_losses_prefer_a_body_filling_the_mask():
    targets = _targets(_square_mask())
    grid = torch.stack(torch.meshgrid(torch.arange(20.0, 40.0), torch.arange(10.0, 30.0), indexing="xy"), -1)
    filling = grid.reshape(1, -1, 2)
    too_small = (filling - 30.0) * 0.3 + 30.0
    shifted = filling + torch.tensor([15.0, 0.0])
    inside_fill, coverage_fill = silhouette_losses(filling, targets, sigma=5.0)
    inside_small, coverage_small = silhouette_losses(too_small, targets, sigma=5.0)
    inside_shift, _ = silhouette_losses(shifted, targets, sigma=5.0)
    assert inside_fill.item() < 0.01 and coverage_fill.item() < 0.02
    assert inside_small.item() < 0.01 and coverage_small.item() > 0.5
    assert inside_shift.item() > 0.3
    targets.available[:] = False
    assert silhouette_losses(shifted, targets, sigma=5.0)[0].item() == 0.0


def test_gradients_pull_points_into_the_mask():
    targets = _targets(_square_mask())
    points = torch.tensor([[[45.0, 20.0]]], requires_grad=True)
    inside, _ = silhouette_losses(points, targets, sigma=10.0)
    inside.sum().backward()
    assert points.grad[0, 0, 0] > 0  # descending moves x down, towards the mask


def test_candidate_search_matches_the_full_search_and_its_gradient():
    generator = torch.Generator().manual_seed(0)
    targets = torch.rand(3, 50, 2, generator=generator) * 100
    points = (torch.rand(3, 400, 2, generator=generator) * 100).requires_grad_(True)
    full = nearest_distance(targets, points)
    candidates = nearest_candidates(targets, points, 8)
    assert candidates.shape == (3, 50, 8)
    moved = points + 0.5  # the points move a little after the candidates were chosen
    assert torch.allclose(nearest_distance(targets, moved, candidates), nearest_distance(targets, moved), atol=1e-5)
    assert torch.allclose(nearest_distance(targets, points, candidates), full, atol=1e-5)
    nearest_distance(targets, points, candidates).sum().backward()
    assert (points.grad.abs().sum(dim=-1) > 0).sum() <= 150  # only each target's nearest point is pulled


def test_boundary_candidates_are_the_body_points_nearest_the_outline():
    targets = _targets(_square_mask())
    grid = torch.stack(torch.meshgrid(torch.arange(20.0, 40.0), torch.arange(10.0, 30.0), indexing="xy"), -1)
    body = grid.reshape(1, -1, 2)
    candidates = boundary_candidates(body, targets, 4)
    valid = torch.isfinite(targets.boundary).all(dim=-1)
    with_candidates = silhouette_losses(body * 0.5 + 15.0, targets, 5.0, candidates)[1]
    exhaustive = silhouette_losses(body * 0.5 + 15.0, targets, 5.0)[1]
    assert candidates.shape == (1, 64, 4) and valid.any()
    # A body that shrank since the candidates were chosen: still the exhaustive answer or
    # more (the candidates bound the distance from above), and clearly far from covered.
    assert with_candidates.item() >= exhaustive.item() - 1e-6 and exhaustive.item() > 0.3
