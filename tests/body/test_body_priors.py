import math

import pytest
import torch

from humanvid.body.priors import PosePrior, ShapePrior


def _prior():
    frames = torch.eye(3).expand(2, 3, 3).clone()
    frames[1] = torch.tensor([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # 90 degrees about z
    lower = torch.tensor([[-0.1, -0.2, -0.3], [0.0, -1.0, -1.0]])
    upper = torch.tensor([[0.1, 0.2, 0.3], [2.0, 1.0, 1.0]])
    return PosePrior(frames, torch.zeros(2, 3), torch.full((2, 3), 0.5), lower, upper)


def test_pose_limits_are_applied_in_the_joint_frames():
    prior = _prior()
    inside = torch.zeros(1, 2, 3)
    assert prior.limit_violation(inside).item() == 0.0
    # Joint 1's bend axis is the model's -y axis (frame column 0 = (0, -1, 0)).
    bent = torch.zeros(1, 2, 3)
    bent[0, 1] = torch.tensor([0.0, -1.5, 0.0])
    assert prior.to_joint_frames(bent)[0, 1, 0].item() == pytest.approx(1.5)
    assert prior.limit_violation(bent).item() == 0.0
    assert prior.limit_violation(-bent).item() == pytest.approx(1.5**2)
    assert prior.limit_violation(prior.clamp(-bent)).item() == pytest.approx(0.0, abs=1e-10)


def test_pose_gaussian_energy():
    prior = _prior()
    pose = torch.zeros(3, 2, 3)
    pose[1, 0, 0] = 0.5
    assert torch.allclose(prior.gaussian_energy(pose), torch.tensor([0.0, 1.0, 0.0]))


def test_pose_prior_rejects_inconsistent_limits():
    with pytest.raises(ValueError):
        PosePrior(torch.eye(3)[None], torch.zeros(1, 3), torch.ones(1, 3), torch.ones(1, 3), torch.zeros(1, 3))


def test_shape_prior_with_unbounded_entries():
    prior = ShapePrior(torch.zeros(2), torch.ones(2), torch.tensor([0.0, -math.inf]), torch.tensor([1.0, math.inf]))
    shape = torch.tensor([[1.5, 100.0]])
    assert prior.limit_violation(shape).item() == pytest.approx(0.25)
    assert prior.gaussian_energy(shape).item() == pytest.approx(1.5**2 + 100.0**2)
    assert torch.equal(prior.clamp(shape), torch.tensor([[1.0, 100.0]]))


def test_pose_samples_stay_within_the_limits():
    prior = _prior()
    samples = prior.sample(64, torch.Generator().manual_seed(0), scale=3.0)
    assert samples.shape == (64, 2, 3)
    assert prior.limit_violation(samples).max().item() < 1e-10
    assert samples.std() > 0.05
