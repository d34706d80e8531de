"""The fitting loop's light Anny evaluation (anny_fast.py) gives forward's exact values."""

from __future__ import annotations

import torch

from humanvid.body.model import BodyParams


def _random_params(body, batch: int, seed: int) -> BodyParams:
    generator = torch.Generator().manual_seed(seed)
    return BodyParams(
        global_orient=torch.randn(batch, 3, generator=generator) * 0.8,
        translation=torch.randn(batch, 3, generator=generator),
        pose=torch.randn(batch, len(body.pose_joint_names), 3, generator=generator) * 0.4,
        shape=torch.tensor([[0.2, 0.7, 0.3, 0.65, 0.25, 0.6]]),
    )


def test_fit_forward_matches_the_full_forward(anny_body):
    params = _random_params(anny_body, 4, 0)
    vertex_ids = torch.arange(0, anny_body.num_vertices, 7)
    with torch.no_grad():
        full = anny_body(params)
        keypoints, vertices = anny_body.fit_forward(params, anny_body.prepare_fit(params.shape, vertex_ids))
    known = torch.isfinite(full.keypoints)
    assert torch.equal(known, torch.isfinite(keypoints))
    assert (keypoints[known] - full.keypoints[known]).abs().max() < 1e-4
    assert (vertices - full.vertices[:, vertex_ids]).abs().max() < 1e-4


def test_fit_forward_gradients_match_the_full_forward(anny_body):
    params = _random_params(anny_body, 2, 1)
    vertex_ids = torch.arange(0, anny_body.num_vertices, 50)
    grads = []
    for fast in (False, True):
        pose = params.pose.clone().requires_grad_(True)
        shape = params.shape.clone().requires_grad_(True)
        current = BodyParams(params.global_orient, params.translation, pose, shape)
        if fast:
            keypoints, vertices = anny_body.fit_forward(current, anny_body.prepare_fit(shape, vertex_ids))
        else:
            output = anny_body(current)
            keypoints, vertices = output.keypoints, output.vertices[:, vertex_ids]
        (keypoints.nan_to_num().square().sum() + vertices.square().sum()).backward()
        grads.append((pose.grad, shape.grad))
    assert torch.allclose(grads[0][0], grads[1][0], rtol=1e-3, atol=1e-3)
    assert torch.allclose(grads[0][1], grads[1][1], rtol=1e-3, atol=1e-3)
