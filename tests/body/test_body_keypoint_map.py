import pytest
import torch

from humanvid.body.anny_keypoints import ANNY_KEYPOINT_NAMES
from humanvid.body.keypoint_map import ANNY_SPEC, SMPL_SPEC, SMPLX_SPEC, build_mapping, map_to_mediapipe
from humanvid.landmarks import MEDIAPIPE_LANDMARKS, mirror_landmark
from humanvid.body.smpl_model import SMPL_JOINT_NAMES, SMPLX_JOINT_NAMES, _VERTEX_KEYPOINTS

SPECS = {
    "anny": (ANNY_SPEC, ANNY_KEYPOINT_NAMES),
    "smpl": (SMPL_SPEC, SMPL_JOINT_NAMES + tuple(_VERTEX_KEYPOINTS["smpl"][1])),
    "smplx": (SMPLX_SPEC, SMPLX_JOINT_NAMES + tuple(_VERTEX_KEYPOINTS["smplx"][1])),
}


def test_mediapipe_order_and_mirroring():
    assert len(MEDIAPIPE_LANDMARKS) == 33
    assert MEDIAPIPE_LANDMARKS[0] == "nose" and MEDIAPIPE_LANDMARKS[11] == "left_shoulder"
    assert MEDIAPIPE_LANDMARKS[23] == "left_hip" and MEDIAPIPE_LANDMARKS[32] == "right_foot_index"
    for name in MEDIAPIPE_LANDMARKS:
        assert mirror_landmark(mirror_landmark(name)) == name
        assert mirror_landmark(name) in MEDIAPIPE_LANDMARKS
    assert mirror_landmark("mouth_left") == "mouth_right"


@pytest.mark.parametrize("model", sorted(SPECS))
def test_mappings_are_valid_and_symmetric(model):
    spec, native = SPECS[model]
    mapping = build_mapping(spec, native)
    assert mapping.matrix.shape == (33, len(native))
    weights = dict(zip(MEDIAPIPE_LANDMARKS, mapping.weights.tolist()))
    for row, name in zip(mapping.matrix, MEDIAPIPE_LANDMARKS):
        if weights[name] > 0:
            assert row.sum().item() == pytest.approx(1.0)
        assert weights[name] == weights[mirror_landmark(name)]
    # Body joints count fully; hips less (conventions differ); face and hands little.
    for joint in ("shoulder", "elbow", "wrist", "knee", "ankle"):
        assert weights[f"left_{joint}"] == 1.0
    assert 0.0 < weights["left_hip"] < 1.0
    for small in ("left_eye_inner", "left_pinky", "left_index", "left_thumb"):
        assert 0.0 < weights[small] <= 0.2 + 1e-6
    assert weights["nose"] <= 0.5


def test_anny_expresses_all_33_landmarks():
    mapping = build_mapping(ANNY_SPEC, ANNY_KEYPOINT_NAMES)
    assert bool((mapping.weights > 0).all())


def test_smpl_has_no_mouth_corners():
    mapping = build_mapping(*SPECS["smpl"])
    assert mapping.weights[MEDIAPIPE_LANDMARKS.index("mouth_left")] == 0.0


def test_build_mapping_rejects_bad_specs():
    with pytest.raises(ValueError, match="unknown MediaPipe"):
        build_mapping({"left_toe": ({"a": 1.0}, 1.0)}, ["a"])
    with pytest.raises(ValueError, match="unknown native"):
        build_mapping({"nose": ({"b": 1.0}, 1.0)}, ["a"])
    with pytest.raises(ValueError, match="sum to 1"):
        build_mapping({"nose": ({"a": 0.5}, 1.0)}, ["a"])
    with pytest.raises(ValueError, match="outside"):
        build_mapping({"nose": ({"a": 1.0}, 2.0)}, ["a"])


def test_map_to_mediapipe_blends_native_keypoints():
    mapping = build_mapping({"left_foot_index": ({"big": 0.7, "small": 0.3}, 0.8)}, ["big", "small"])
    native = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    mapped = map_to_mediapipe(native, mapping.matrix)
    assert mapped.shape == (1, 33, 3)
    assert torch.allclose(mapped[0, 31], torch.tensor([0.7, 0.3, 0.0]))
