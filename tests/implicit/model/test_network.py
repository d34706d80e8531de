"""The occupancy network's pieces: projection, keypoint encoding, shapes and switches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from humanvid.implicit.model.keypoint_encoding import keypoint_encoding
from humanvid.implicit.model.network import NetworkConfig, OccupancyNetwork
from humanvid.projection import crop_camera, project
from preprocessing.crop import crop_affine, to_crop


def test_projection_matches_the_preprocessing_crop():
    intrinsics = torch.tensor([[700.0, 700.0, 405.5, 359.5]])
    affine_np = crop_affine(np.array([380.0, 300.0]), 450.0)
    camera = crop_camera(intrinsics, torch.tensor(affine_np[None], dtype=torch.float32))
    point = torch.tensor([[[0.3, 0.2, -4.0]]])  # right of and above the optical axis
    pixel_full = np.array([[700 * 0.3 / 4.0 + 405.5, 359.5 - 700 * 0.2 / 4.0]])
    expected = to_crop(pixel_full, affine_np)
    assert project(point, camera)[0].numpy() == pytest.approx(expected, abs=1e-3)


def test_keypoint_weight_falls_with_distance():
    keypoints = torch.tensor([[[0.0, 0.0, -3.0]]])
    near = torch.tensor([[[0.02, 0.0, -3.05]]])
    far = torch.tensor([[[0.5, 0.0, -3.05]]])  # same relative depth, further to the side
    e_near, e_far = keypoint_encoding(near, keypoints), keypoint_encoding(far, keypoints)
    assert e_near.shape == (1, 1, 8)
    assert e_near.abs().sum() > 10 * e_far.abs().sum()
    distances = torch.linspace(0.0, 0.6, 7)
    points = torch.stack([distances, torch.zeros(7), torch.full((7,), -3.0)], dim=-1)[None]
    magnitude = keypoint_encoding(points, keypoints).norm(dim=-1)[0]
    assert torch.all(magnitude[1:] < magnitude[:-1])


def test_keypoint_encoding_is_relative_and_ignores_missing_keypoints():
    rng = torch.Generator().manual_seed(0)
    points = torch.randn(1, 50, 3, generator=rng) * 0.3 + torch.tensor([0.0, 0.0, -3.0])
    keypoints = torch.randn(1, 5, 3, generator=rng) * 0.3 + torch.tensor([0.0, 0.0, -3.0])
    shift = torch.tensor([0.4, -0.2, -1.0])
    assert torch.allclose(keypoint_encoding(points, keypoints), keypoint_encoding(points + shift, keypoints + shift),
                          atol=1e-5)
    with_missing = keypoints.clone()
    with_missing[0, 2] = float("nan")
    encoded = keypoint_encoding(points, with_missing).reshape(1, 50, 5, 8)
    assert torch.all(encoded[:, :, 2] == 0) and torch.isfinite(encoded).all()


@pytest.mark.parametrize("config", [
    NetworkConfig(),
    NetworkConfig(keypoint_encoding=False),
    NetworkConfig(image_features=False),
    NetworkConfig(body_sdf=True),
])
def test_network_shapes_and_gradients(config):
    network = OccupancyNetwork(config)
    image, mask = torch.rand(2, 3, 512, 512), (torch.rand(2, 1, 512, 512) > 0.5).float()
    points = torch.randn(2, 100, 3) * 0.4 + torch.tensor([0.0, 0.0, -3.0])
    intrinsics = torch.tensor([[700.0, 700.0, 400.0, 300.0]] * 2)
    affine = torch.tensor(np.stack([crop_affine(np.array([400.0, 300.0]), 500.0)] * 2), dtype=torch.float32)
    keypoints = torch.randn(2, 33, 3) * 0.3 + torch.tensor([0.0, 0.0, -3.0])
    sdf = torch.randn(2, 100) * 0.05 if config.body_sdf else None
    logits = network(image, mask, points, crop_camera(intrinsics, affine), keypoints, sdf)
    assert logits.shape == (2, 100) and torch.isfinite(logits).all()
    logits.sum().backward()
    assert all(p.grad is not None for p in network.parameters())


def test_the_mlp_is_the_skip_connected_function_of_its_layers():
    """forward() shares one matrix product between the first layer and the skip input; it must stay
    the plain second(cat([first(x), x])) of the layers it holds."""
    from humanvid.implicit.model.network import OccupancyMLP

    torch.manual_seed(0)
    mlp = OccupancyMLP(20, 16)
    features = torch.randn(2, 50, 20)
    plain = mlp.second(torch.cat([mlp.first(features), features], dim=-1)).squeeze(-1)
    assert mlp(features).shape == (2, 50)
    assert torch.allclose(mlp(features), plain, atol=1e-6)
