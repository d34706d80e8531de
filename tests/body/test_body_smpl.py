"""SMPL / SMPL-X body models end to end on self-made model files (never real SMPL data)."""

import pickle

import numpy as np
import pytest
import torch

from body.body_test_files import chumpy_style_pickle, tiny_smpl_arrays
from humanvid.body import create_body_model
from humanvid.landmarks import MEDIAPIPE_LANDMARKS
from humanvid.body.skinning import skin_points
from humanvid.body.smpl_model import SMPL_JOINT_NAMES, SMPLX_JOINT_NAMES, load_smpl_body
from humanvid.errors import HumanvidError


@pytest.fixture(scope="module")
def smpl_folder(tmp_path_factory):
    """A folder laid out like the official download, with a chumpy-pickled neutral model."""
    folder = tmp_path_factory.mktemp("smpl_download")
    model = folder / "models" / "smpl" / "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl"
    model.parent.mkdir(parents=True)
    model.write_bytes(chumpy_style_pickle(tiny_smpl_arrays()))
    return folder


@pytest.fixture(scope="module")
def smpl_body(smpl_folder):
    return create_body_model("smpl", model_path=smpl_folder)


def _joint(body, output, name, frame=0):
    return output.joints[frame, body.joint_names.index(name)]


def test_smpl_from_a_chumpy_file_poses_end_to_end(smpl_body):
    assert smpl_body.name == "smpl"
    assert smpl_body.pose_joint_names == SMPL_JOINT_NAMES[1:]
    params = smpl_body.neutral_params(2)
    params.translation = torch.tensor([[0.0, 0.0, -3.0], [0.2, 0.1, -2.0]])
    params.pose[1, smpl_body.pose_joint_names.index("left_knee")] = torch.tensor([1.0, 0.0, 0.0])
    params.shape = torch.full((1, 10), 0.5)
    output = smpl_body(params)
    assert output.vertices.shape == (2, 48, 3) and output.keypoints.shape == (2, 33, 3)
    assert output.joints.shape == (2, 24, 3) and output.bone_transforms.shape == (2, 24, 4, 4)
    assert smpl_body.faces.shape == (24, 3) and smpl_body.faces.dtype == torch.int64
    # The root joint sits at the translation.
    assert torch.allclose(output.joints[:, 0], params.translation, atol=1e-6)
    # Skinning transforms reproduce the vertices from the rest vertices.
    skinned = skin_points(output.rest_vertices, output.bone_transforms, output.skinning_indices, output.skinning_weights)
    assert (skinned - output.vertices).abs().max() < 1e-5
    # Knee flexion (+x in SMPL's convention) swings the ankle backwards (-z) and up.
    rest_ankle = _joint(smpl_body, output, "left_ankle", 0) - params.translation[0]
    bent_ankle = _joint(smpl_body, output, "left_ankle", 1) - params.translation[1]
    assert bent_ankle[2] < rest_ankle[2] - 0.2 and bent_ankle[1] > rest_ankle[1] + 0.1
    assert smpl_body.pose_prior.limit_violation(params.pose).abs().max().item() == 0.0


def test_keypoints_of_a_non_official_topology(smpl_body):
    output = smpl_body(smpl_body.neutral_params())
    weights = dict(zip(MEDIAPIPE_LANDMARKS, output.keypoint_weights.tolist()))
    # Joints map fully; vertex keypoints (nose, heels, ...) need the official 6890-vertex mesh.
    assert weights["left_knee"] == 1.0 and weights["left_hip"] == pytest.approx(0.3)
    assert weights["nose"] == 0.0 and weights["left_heel"] == 0.0
    knee = output.keypoints[0, MEDIAPIPE_LANDMARKS.index("left_knee")]
    assert torch.allclose(knee, _joint(smpl_body, output, "left_knee"))
    assert torch.isfinite(output.keypoints).all()


def test_smpl_knee_limits(smpl_body):
    pose = torch.zeros(1, 23, 3)
    knee = smpl_body.pose_joint_names.index("left_knee")
    pose[0, knee, 0] = -0.6  # bent backwards
    assert smpl_body.pose_prior.limit_violation(pose).item() > 0.1
    right_elbow = smpl_body.pose_joint_names.index("right_elbow")
    pose = torch.zeros(1, 23, 3)
    pose[0, right_elbow, 1] = 1.5  # right elbow flexion is +y in SMPL
    assert smpl_body.pose_prior.limit_violation(pose).item() == 0.0
    pose[0, right_elbow, 1] = -1.0
    assert smpl_body.pose_prior.limit_violation(pose).item() > 0.5


def test_gradients_flow(smpl_body):
    params = smpl_body.neutral_params(2)
    for value in (params.pose, params.shape, params.global_orient, params.translation):
        value.requires_grad_(True)
    vertices = smpl_body(params).vertices
    (vertices * torch.linspace(-1.0, 2.0, vertices.numel()).reshape(vertices.shape)).sum().backward()
    for value in (params.pose, params.shape, params.global_orient, params.translation):
        assert torch.isfinite(value.grad).all() and value.grad.abs().sum() > 0


def test_smplx_file_with_hand_means(tmp_path):
    arrays = tiny_smpl_arrays(joints=55, num_betas=20)
    arrays["hands_meanl"] = np.full(45, 0.1)
    arrays["hands_meanr"] = np.full(45, -0.1)
    np.savez(tmp_path / "SMPLX_NEUTRAL.npz", **{k: v for k, v in arrays.items() if isinstance(v, np.ndarray)})
    body = load_smpl_body(tmp_path, kind="smplx", num_betas=10)
    assert body.name == "smplx" and len(body.pose_joint_names) == 21 and body.joint_names == SMPLX_JOINT_NAMES
    assert body.shape_names == tuple(f"beta{i}" for i in range(10))
    output = body(body.neutral_params())
    assert output.joints.shape == (1, 55, 3) and torch.isfinite(output.vertices).all()
    assert torch.allclose(body.rest_extra_pose[3:18], torch.full((15, 3), 0.1, dtype=body.dtype))


def test_wrong_kind_missing_entries_and_missing_path(tmp_path):
    (tmp_path / "SMPL_NEUTRAL.pkl").write_bytes(pickle.dumps(tiny_smpl_arrays()))
    with pytest.raises(HumanvidError, match="24 joints, which is SMPL, not SMPLX"):
        load_smpl_body(tmp_path / "SMPL_NEUTRAL.pkl", kind="smplx")
    broken = tiny_smpl_arrays()
    del broken["posedirs"]
    (tmp_path / "broken.pkl").write_bytes(pickle.dumps(broken))
    with pytest.raises(HumanvidError, match="no 'posedirs'"):
        load_smpl_body(tmp_path / "broken.pkl")
    wrong = tiny_smpl_arrays()
    wrong["weights"] = wrong["weights"][:, :20]
    (tmp_path / "wrong.pkl").write_bytes(pickle.dumps(wrong))
    with pytest.raises(HumanvidError, match="'weights' has shape"):
        load_smpl_body(tmp_path / "wrong.pkl")
    with pytest.raises(HumanvidError, match="needs --model-path"):
        create_body_model("smpl")
    with pytest.raises(HumanvidError, match="unknown body model"):
        create_body_model("mano")


def test_initialization_works_for_smpl(smpl_body):
    from humanvid.body.initialization import camera_to_mediapipe_world, initialize_from_landmarks

    truth = smpl_body.neutral_params(2)
    truth.pose[:, smpl_body.pose_joint_names.index("left_knee"), 0] = 1.2
    truth.pose[1, smpl_body.pose_joint_names.index("right_elbow"), 1] = 1.0
    truth.global_orient[1] = torch.tensor([0.0, 2.0, 0.0])
    truth.translation = torch.tensor([[0.0, 0.0, -3.0], [0.5, 0.0, -4.0]])
    keypoints = smpl_body(truth).keypoints.detach()
    pixels = torch.stack([400 + 800 * keypoints[..., 0] / -keypoints[..., 2], 300 - 800 * keypoints[..., 1] / -keypoints[..., 2]], -1)
    world = camera_to_mediapipe_world(keypoints - keypoints[:, 23:25].mean(dim=1, keepdim=True), pixels, 800.0, 800.0, 400.0, 300.0)
    init = initialize_from_landmarks(smpl_body, pixels, torch.ones(2, 33), world, 800.0, 800.0, 400.0, 300.0)
    found = smpl_body(init).keypoints.detach()
    used = smpl_body.keypoint_weights > 0
    assert (found[:, used] - keypoints[:, used]).norm(dim=-1).mean() < 0.05


def test_official_topology_uses_smplx_vertex_keypoints():
    from humanvid.body.smpl_model import SmplBody

    arrays = tiny_smpl_arrays(num_betas=1)
    rng = np.random.default_rng(0)
    vertex_count = 6890
    owner = rng.integers(0, 24, size=vertex_count)
    arrays["v_template"] = tiny_smpl_arrays()["v_template"][2 * owner] + rng.normal(scale=0.01, size=(vertex_count, 3))
    arrays["weights"] = np.eye(24)[owner]
    arrays["J_regressor"] = arrays["weights"].T / arrays["weights"].sum(axis=0)[:, None]
    arrays["shapedirs"] = np.zeros((vertex_count, 3, 1))
    arrays["posedirs"] = np.zeros((vertex_count, 3, 207), dtype=np.float32)
    body = SmplBody(arrays, kind="smpl")
    output = body(body.neutral_params())
    weights = dict(zip(MEDIAPIPE_LANDMARKS, output.keypoint_weights.tolist()))
    assert weights["nose"] == 0.5 and weights["left_heel"] == pytest.approx(0.8)
    nose = output.keypoints[0, MEDIAPIPE_LANDMARKS.index("nose")]
    assert torch.allclose(nose, output.vertices[0, 332])


def test_the_final_filter_finds_its_parts_in_smpl(smpl_body):
    from humanvid.body.fitting import FitSettings
    from humanvid.body.temporal_filter import filtered_sequence, final_filter, gaussian_kernel

    settings = FitSettings()
    params = smpl_body.neutral_params(12)
    params.pose = 0.1 * torch.randn(params.pose.shape, generator=torch.Generator().manual_seed(1), dtype=params.pose.dtype)
    filtered = final_filter(smpl_body, params, settings.final_smoothing_sigma, settings.final_smoothing_sigmas)
    knee = smpl_body.pose_joint_names.index("left_knee")
    wanted = filtered_sequence(params.pose[:, knee], gaussian_kernel(settings.final_smoothing_sigmas["shin"]), linear_ends=True)
    assert torch.allclose(filtered.pose[:, knee], wanted, atol=2e-3, rtol=0.0)  # rotations filtered as rotations


def test_the_smpl_hands_are_the_wrists_and_the_hand_joints(smpl_body):
    assert {smpl_body.joint_names[i] for i in smpl_body.hand_joints} == {"left_wrist", "right_wrist",
                                                                       "left_hand", "right_hand"}
