import torch

from humanvid.body.rotations import axis_angle_to_matrix, rigid_matrix
from humanvid.body.skinning import blend_transforms, carry_points, dense_to_sparse_weights, regress_keypoints, skin_points


def _random_rig(batch=2, bones=5, vertices=30, seed=0):
    generator = torch.Generator().manual_seed(seed)
    randn = lambda *shape: torch.randn(*shape, generator=generator, dtype=torch.float64)  # noqa: E731
    transforms = rigid_matrix(axis_angle_to_matrix(0.5 * randn(batch, bones, 3)), randn(batch, bones, 3))
    dense = torch.rand(vertices, bones, generator=generator, dtype=torch.float64) ** 4
    dense = dense / dense.sum(dim=1, keepdim=True)
    return transforms, dense, randn(1, vertices, 3).expand(batch, -1, -1)


def test_sparse_skinning_equals_dense_skinning():
    transforms, dense, rest = _random_rig()
    indices, weights = dense_to_sparse_weights(dense, max_influences=5)
    blended = torch.einsum("vj,bjmn->bvmn", dense, transforms)
    expected = (blended[..., :3, :3] @ rest[..., None])[..., 0] + blended[..., :3, 3]
    assert torch.allclose(skin_points(rest, transforms, indices, weights), expected, atol=1e-5)
    assert torch.allclose(blend_transforms(transforms, indices, weights), blended, atol=1e-5)
    subset = torch.tensor([3, 7])
    assert torch.allclose(blend_transforms(transforms, indices, weights, subset), blended[:, subset], atol=1e-5)


def test_carry_points_moves_attached_points_between_poses():
    transforms, dense, rest = _random_rig(batch=2)
    indices, weights = dense_to_sparse_weights(dense, max_influences=5)
    per_vertex = blend_transforms(transforms, indices, weights)
    posed = skin_points(rest, transforms, indices, weights)
    carried = carry_points(posed[0], per_vertex[0], per_vertex[1])
    assert torch.allclose(carried, posed[1], atol=1e-9)


def test_regress_keypoints_is_a_convex_combination():
    vertices = torch.arange(12.0).reshape(1, 4, 3)
    keypoints = regress_keypoints(vertices, torch.tensor([[0, 1], [2, 2]]), torch.tensor([[0.5, 0.5], [1.0, 0.0]]))
    assert torch.allclose(keypoints[0], torch.tensor([[1.5, 2.5, 3.5], [6.0, 7.0, 8.0]]))
