"""Anny body model: output frame, keypoint placement, skinning, measured sign conventions,
joint limits. One Anny model for the whole session (conftest.py)."""

import math

import pytest
import torch

from humanvid.body.anny_pose import COMPACT_BONES, joint_limits_deg, mirrored_name
from humanvid.landmarks import MEDIAPIPE_LANDMARKS
from humanvid.body.skinning import skin_points

LANDMARK = {name: index for index, name in enumerate(MEDIAPIPE_LANDMARKS)}


@pytest.fixture(scope="module")
def neutral(anny_body):
    with torch.no_grad():
        return anny_body(anny_body.neutral_params())


def _posed(body, components_deg: dict[str, tuple[float, float, float]], batch_params=None):
    """Output for a pose given as (bend, side, twist) degrees per bone."""
    params = batch_params or body.neutral_params()
    components = torch.zeros(1, len(COMPACT_BONES), 3)
    for bone, values in components_deg.items():
        components[0, COMPACT_BONES.index(bone)] = torch.tensor(values) * (math.pi / 180.0)
    params.pose = body.pose_prior.from_joint_frames(components)
    with torch.no_grad():
        return body(params)


def _joint(body, output, bone):
    return output.joints[0, body.joint_names.index(bone)]


def test_output_shapes(anny_body, neutral):
    assert neutral.vertices.shape == (1, 13718, 3)
    assert neutral.keypoints.shape == (1, 33, 3)
    assert neutral.keypoint_weights.shape == (33,)
    assert neutral.joints.shape == (1, 104, 3)
    assert neutral.bone_transforms.shape == (1, 104, 4, 4)
    assert anny_body.faces.shape == (27420, 3) and int(anny_body.faces.max()) < 13718
    assert neutral.vertices.dtype == torch.float32
    assert len(anny_body.pose_joint_names) == 19 and len(anny_body.shape_names) == 6


def test_neutral_body_is_upright_facing_the_camera_with_its_left_on_plus_x(anny_body, neutral):
    keypoints = neutral.keypoints[0]
    vertices = neutral.vertices[0]
    height = vertices[:, 1].max() - vertices[:, 1].min()
    assert 1.6 < height < 1.8  # the shape prior's mean is an adult of ~1.70 m
    assert keypoints[LANDMARK["nose"], 1] > keypoints[LANDMARK["left_hip"], 1] > keypoints[LANDMARK["left_ankle"], 1]
    assert keypoints[LANDMARK["nose"], 2] > keypoints[LANDMARK["left_ear"], 2]  # faces +z
    assert keypoints[LANDMARK["left_shoulder"], 0] > 0 > keypoints[LANDMARK["right_shoulder"], 0]
    assert torch.allclose(_joint(anny_body, neutral, "root"), torch.zeros(3), atol=1e-6)


def test_each_keypoint_lands_on_its_body_part(neutral):
    k = {name: neutral.keypoints[0, index] for name, index in LANDMARK.items()}
    x, y, z = 0, 1, 2
    for side, sign in (("left", 1.0), ("right", -1.0)):
        eye, inner, outer = k[f"{side}_eye"], k[f"{side}_eye_inner"], k[f"{side}_eye_outer"]
        # Eyes: above the nose, on their own side, the inner corner nearer the midline.
        assert eye[y] > k["nose"][y] and sign * eye[x] > 0.015
        assert sign * inner[x] < sign * eye[x] < sign * outer[x]
        assert abs(inner[y] - eye[y]) < 0.01 and abs(outer[y] - eye[y]) < 0.01
        # Ears: behind and outside the eyes, at eye height (within 4 cm).
        ear = k[f"{side}_ear"]
        assert ear[z] < eye[z] - 0.04 and sign * ear[x] > sign * outer[x] and abs(ear[y] - eye[y]) < 0.04
        # Mouth corners: below the nose, in front of the ears, between the eyes' centres.
        mouth = k[f"mouth_{side}"]
        assert k["nose"][y] - 0.08 < mouth[y] < k["nose"][y] - 0.02
        assert 0.01 < sign * mouth[x] < sign * eye[x] and mouth[z] > ear[z]
        # Feet: the heel below and behind the ankle, the foot index ahead of it and low.
        ankle, heel, toe = k[f"{side}_ankle"], k[f"{side}_heel"], k[f"{side}_foot_index"]
        assert heel[y] < ankle[y] and heel[z] < ankle[z]
        assert toe[z] > ankle[z] + 0.1 and toe[y] < ankle[y]
        # Hand: knuckles within 12 cm of the wrist, beyond it as seen from the elbow.
        wrist, elbow = k[f"{side}_wrist"], k[f"{side}_elbow"]
        for part in ("pinky", "index", "thumb"):
            knuckle = k[f"{side}_{part}"]
            assert (knuckle - wrist).norm() < 0.12
            assert torch.dot(knuckle - wrist, wrist - elbow) > 0
        # The index knuckle is in front of the little finger's (palms face the thighs at rest).
        assert k[f"{side}_index"][z] > k[f"{side}_pinky"][z]
        # Limbs in order down the body, on their side.
        assert k[f"{side}_shoulder"][y] > k[f"{side}_elbow"][y] > k[f"{side}_wrist"][y]
        assert k[f"{side}_hip"][y] > k[f"{side}_knee"][y] > k[f"{side}_ankle"][y]
        assert sign * k[f"{side}_hip"][x] > 0.05


def test_keypoints_are_mirror_symmetric_at_rest(neutral):
    keypoints = neutral.keypoints[0]
    for name, index in LANDMARK.items():
        other = keypoints[MEDIAPIPE_LANDMARKS.index(_mirror_landmark(name))]
        assert torch.allclose(keypoints[index] * torch.tensor([-1.0, 1.0, 1.0]), other, atol=2e-3), name


def _mirror_landmark(name):
    from humanvid.landmarks import mirror_landmark

    return mirror_landmark(name)


def test_skinning_reproduces_the_vertices_and_carries_points(anny_body):
    torch.manual_seed(0)
    params = anny_body.neutral_params(2)
    params.pose = anny_body.pose_prior.clamp(0.3 * torch.randn(2, 19, 3))
    params.global_orient = torch.tensor([[0.0, 0.0, 0.0], [0.2, 2.5, -0.1]])
    params.translation = torch.tensor([[0.0, 0.0, -3.0], [0.5, -0.2, -4.0]])
    with torch.no_grad():
        output = anny_body(params)
    skinned = skin_points(output.rest_vertices.expand(2, -1, -1), output.bone_transforms, output.skinning_indices, output.skinning_weights)
    assert (skinned - output.vertices).abs().max() < 1e-4
    vertex_ids = torch.arange(0, 13718, 97)
    carried = output.carry(output.vertices[0, vertex_ids], vertex_ids, source=0, target=1)
    assert (carried - output.vertices[1, vertex_ids]).abs().max() < 1e-3
    assert output.vertex_transforms(vertex_ids).shape == (2, len(vertex_ids), 4, 4)


def test_global_orientation_and_translation(anny_body, neutral):
    params = anny_body.neutral_params()
    params.global_orient = torch.tensor([[0.0, math.pi, 0.0]])
    params.translation = torch.tensor([[0.3, 0.1, -2.5]])
    with torch.no_grad():
        turned = anny_body(params)
    assert torch.allclose(_joint(anny_body, turned, "root"), params.translation[0], atol=1e-5)
    nose, ear = turned.keypoints[0, LANDMARK["nose"]], turned.keypoints[0, LANDMARK["left_ear"]]
    assert nose[2] < ear[2]  # now facing away from the camera (-z)
    expected = neutral.vertices[0] * torch.tensor([-1.0, 1.0, -1.0]) + params.translation[0]
    assert (turned.vertices[0] - expected).abs().max() < 1e-4


def test_one_shared_shape_row_equals_repeated_rows(anny_body):
    params = anny_body.neutral_params(2)
    params.shape = torch.tensor([[0.2, 0.7, 0.6, 0.3, 0.6, 0.4]])
    params.pose[1, COMPACT_BONES.index("lowerleg01.L"), 0] = 0.8
    with torch.no_grad():
        shared = anny_body(params)
        params.shape = params.shape.expand(2, -1).clone()
        repeated = anny_body(params)
    assert (shared.vertices - repeated.vertices).abs().max() < 1e-5


def test_gradients_reach_every_parameter(anny_body):
    params = anny_body.neutral_params(2)
    for value in (params.pose, params.shape, params.global_orient, params.translation):
        value.requires_grad_(True)
    output = anny_body(params)
    weighted = output.keypoints * output.keypoint_weights[:, None]
    (weighted * torch.linspace(-1.0, 2.0, weighted.numel()).reshape(weighted.shape)).sum().backward()
    for value in (params.pose, params.shape, params.global_orient, params.translation):
        assert value.grad is not None and torch.isfinite(value.grad).all() and value.grad.abs().sum() > 0


def test_wrong_parameter_shapes_are_rejected(anny_body):
    params = anny_body.neutral_params(2)
    params.pose = torch.zeros(2, 18, 3)
    with pytest.raises(ValueError, match="pose"):
        anny_body(params)
    params = anny_body.neutral_params(2)
    params.shape = torch.zeros(3, 6)
    with pytest.raises(ValueError, match="shape"):
        anny_body(params)


# Measured sign conventions (documented in anny_pose.py). Output frame: x = body's left,
# y = up, z = front. (bone moved, its component degrees, joint watched, expected motion)
SIGN_CASES = [
    ("spine04", (30, 0, 0), "neck01", {2: +1, 1: -1}),  # bend = forward flexion
    ("spine02", (0, 20, 0), "neck01", {0: +1}),  # side = lean left
    ("neck01", (0, 0, 40), "eye.R", {0: +1}),  # twist = turn left
    ("clavicle.L", (20, 0, 0), "upperarm01.L", {1: +1}),  # bend = elevation
    ("upperarm01.L", (0, 60, 0), "lowerarm01.L", {1: +1, 0: +1}),  # side = abduction
    ("upperarm01.R", (0, -60, 0), "lowerarm01.R", {1: +1, 0: -1}),  # mirrored
    ("upperarm01.L", (-60, 0, 0), "lowerarm01.L", {2: +1}),  # bend - = flexion, arm forwards
    ("lowerarm01.L", (60, 0, 0), "wrist.L", {1: +1}),  # bend = elbow flexion
    ("wrist.L", (40, 0, 0), "finger3-1.L", {0: -1}),  # bend = palmar flexion (towards the thigh)
    ("upperleg01.L", (-60, 0, 0), "lowerleg01.L", {2: +1, 1: +1}),  # bend - = hip flexion
    ("upperleg01.R", (0, -30, 0), "lowerleg01.R", {0: -1}),  # mirrored side: abduction
    ("lowerleg01.L", (60, 0, 0), "foot.L", {2: -1, 1: +1}),  # bend = knee flexion
    ("foot.L", (30, 0, 0), "toe3-1.L", {1: -1}),  # bend = plantar flexion
    ("foot.L", (0, 20, 0), "toe3-1.L", {0: +1}),  # side = toes outwards
    ("upperleg01.L", (0, 0, 30), "toe3-1.L", {0: -1}),  # twist = internal rotation
    ("upperleg01.R", (0, 0, -30), "toe3-1.R", {0: +1}),  # mirrored
    ("upperarm01.L", (0, 0, 30), "wrist.L", {0: -1}),  # twist = internal rotation
]


@pytest.mark.parametrize("bone, degrees, watched, motion", SIGN_CASES)
def test_measured_sign_conventions(anny_body, neutral, bone, degrees, watched, motion):
    moved = _posed(anny_body, {bone: degrees})
    displacement = _joint(anny_body, moved, watched) - _joint(anny_body, neutral, watched)
    for axis, sign in motion.items():
        assert sign * displacement[axis] > 0.01, (bone, axis, displacement)


def test_elbow_flexion_brings_the_wrist_towards_the_shoulder(anny_body, neutral):
    flexed = _posed(anny_body, {"lowerarm01.L": (90, 0, 0)})
    def reach(output):
        return (_joint(anny_body, output, "wrist.L") - _joint(anny_body, output, "upperarm01.L")).norm()
    assert reach(flexed) < reach(neutral) - 0.1


def test_rest_pose_is_inside_the_limits_and_hyperextension_is_not(anny_body):
    assert anny_body.pose_prior.limit_violation(anny_body.neutral_params().pose).item() == 0.0
    components = torch.zeros(1, 19, 3)
    components[0, COMPACT_BONES.index("lowerleg01.L"), 0] = math.radians(-30)  # knee bent backwards
    assert anny_body.pose_prior.limit_violation(anny_body.pose_prior.from_joint_frames(components)).item() > 0.05
    limits = joint_limits_deg()
    assert set(limits) == set(COMPACT_BONES)
    assert limits["upperarm01.R"][1] == tuple(-v for v in reversed(limits["upperarm01.L"][1]))


def _mirror_pose(pose):
    """Mirror a compact pose through the sagittal plane: swap sides, (x, -y, -z) per bone."""
    mirrored = torch.empty_like(pose)
    for index, bone in enumerate(COMPACT_BONES):
        mirrored[:, COMPACT_BONES.index(mirrored_name(bone))] = pose[:, index] * torch.tensor([1.0, -1.0, -1.0])
    return mirrored


def test_mirrored_pose_gives_mirrored_body_and_equal_limit_violation(anny_body):
    torch.manual_seed(3)
    params = anny_body.neutral_params()
    params.pose = 0.6 * torch.randn(1, 19, 3)
    params.global_orient = torch.tensor([[0.1, 0.4, -0.2]])
    mirrored = anny_body.neutral_params()
    mirrored.pose = _mirror_pose(params.pose)
    mirrored.global_orient = params.global_orient * torch.tensor([1.0, -1.0, -1.0])
    with torch.no_grad():
        original, reflected = anny_body(params), anny_body(mirrored)
    for bone in ("lowerarm01.L", "wrist.R", "foot.L", "head", "finger2-1.R"):
        a = _joint(anny_body, original, bone) * torch.tensor([-1.0, 1.0, 1.0])
        b = _joint(anny_body, reflected, mirrored_name(bone))
        assert (a - b).norm() < 3e-3, bone
    violation = anny_body.pose_prior.limit_violation(params.pose)
    assert violation.item() > 0
    assert anny_body.pose_prior.limit_violation(mirrored.pose).item() == pytest.approx(violation.item(), rel=1e-4)


def test_the_hands_are_the_wrists_and_every_joint_below_them(anny_body):
    hands = {anny_body.joint_names[i] for i in anny_body.hand_joints}
    assert {"wrist.L", "wrist.R", "finger1-3.L", "metacarpal4.R", "finger5-3.R"} <= hands
    assert all(name.startswith(("wrist", "finger", "metacarpal")) for name in hands)
    assert len(hands) == 40  # per hand: the wrist, 4 metacarpals, 5 fingers of 3 bones
