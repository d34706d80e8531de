"""SMPL and SMPL-X as :class:`~humanvid.body.model.BodyModel` s, from user-provided files.

Files are found and read by model_files.py (no chumpy, no code execution); the maths is
smplx's (`smplx.lbs`: shape blend shapes, joint regression, kinematic chain), with the
skinning transforms kept for temporal fusion.

Parameters (:class:`~humanvid.body.model.BodyParams`):
- pose: (B, P, 3) axis-angle per body joint after the root, SMPL convention
  (P = 23 for SMPL, 21 for SMPL-X; hands, jaw and eyes of SMPL-X stay at rest, the hands
  in the file's mean relaxed pose when it has one).
- shape: (1 or B, num_betas) betas.
- global_orient, translation: the root joint (pelvis) rotation and position in the output
  frame. SMPL's native frame is already upright and facing +z.

`rest_vertices` of the output include SMPL's pose-corrective offsets of each body, so
that the bone transforms map them exactly onto the posed vertices.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from humanvid.body.keypoint_map import SMPL_SPEC, SMPLX_SPEC, build_mapping, map_to_mediapipe
from humanvid.body.model import BodyModel, BodyOutput, BodyParams, expand_shape
from humanvid.body.model_files import find_model_file, load_model_arrays
from humanvid.body.priors import PosePrior, ShapePrior
from humanvid.body.rotations import axis_angle_to_matrix, rigid_matrix
from humanvid.body.skinning import dense_to_sparse_weights
from humanvid.body.smpl_pose import pose_frames_and_limits, prior_std_from_limits
from humanvid.errors import HumanvidError

_BODY_JOINTS = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)  # fmt: skip
_HAND_JOINTS = tuple(
    f"{side}_{finger}{k}"
    for side in ("left", "right")
    for finger in ("index", "middle", "pinky", "ring", "thumb")
    for k in (1, 2, 3)
)
SMPL_JOINT_NAMES = _BODY_JOINTS + ("left_hand", "right_hand")
SMPLX_JOINT_NAMES = _BODY_JOINTS + ("jaw", "left_eye_smplhf", "right_eye_smplhf") + _HAND_JOINTS

# smplx's vertex keypoints (smplx.vertex_ids), valid on the official topologies only.
_VERTEX_KEYPOINTS: dict[str, tuple[int, dict[str, int]]] = {
    "smpl": (6890, {
        "nose": 332, "left_eye": 2800, "right_eye": 6260, "left_ear": 583, "right_ear": 4071,
        "left_big_toe": 3216, "left_small_toe": 3226, "left_heel": 3387,
        "right_big_toe": 6617, "right_small_toe": 6624, "right_heel": 6787,
        "left_thumb_tip": 2746, "left_index_tip": 2319, "left_pinky_tip": 2673,
        "right_thumb_tip": 6191, "right_index_tip": 5782, "right_pinky_tip": 6133,
    }),
    "smplx": (10475, {
        "nose": 9120, "left_eye": 9448, "right_eye": 9929, "left_ear": 6, "right_ear": 616,
        "left_big_toe": 5770, "left_small_toe": 5780, "left_heel": 8846,
        "right_big_toe": 8463, "right_small_toe": 8474, "right_heel": 8635,
    }),
}  # fmt: skip
# Where a vertex keypoint falls back to when the topology is not the official one.
_FALLBACK_JOINT = {"nose": "head", "eye": "head", "ear": "head", "toe": "foot", "heel": "ankle", "tip": "wrist"}

_SPECS = {"smpl": SMPL_SPEC, "smplx": SMPLX_SPEC}
_INITIALIZATION_JOINTS = {
    "spine": "spine2",
    "neck": "neck",
    **{
        f"{side}_{role}": f"{side}_{joint}"
        for side in ("left", "right")
        for role, joint in (
            ("upper_arm", "shoulder"), ("forearm", "elbow"), ("thigh", "hip"), ("shin", "knee"), ("foot", "ankle"),
        )
    },
}  # fmt: skip
_JOINT_NAMES = {"smpl": SMPL_JOINT_NAMES, "smplx": SMPLX_JOINT_NAMES}
_NUM_BODY_POSE = {"smpl": 23, "smplx": 21}


def load_smpl_body(
    model_path: str | os.PathLike,
    kind: str = "smpl",
    gender: str = "neutral",
    num_betas: int = 10,
    dtype: torch.dtype = torch.float32,
) -> "SmplBody":
    """Find, read and validate a user's SMPL or SMPL-X model file.

    Args:
        model_path: a model file or a folder holding one (see model_files.py for names).
        kind: "smpl" or "smplx".
        gender: "neutral", "male" or "female".
        num_betas: shape coefficients to use (at most what the file has).
    Raises:
        HumanvidError: missing, unreadable, malicious or wrong files, in one line.
    """
    path = find_model_file(model_path, kind, gender)
    arrays = load_model_arrays(path)
    return SmplBody(arrays, kind=kind, num_betas=num_betas, source=str(path)).to(dtype=dtype)


def _require(arrays: dict[str, Any], key: str, ndim: tuple[int, ...], source: str, kind: str) -> np.ndarray:
    value = arrays.get(key)
    if value is None:
        raise HumanvidError(f"{source} is not a {kind.upper()} model file: it has no '{key}' array")
    array = np.asarray(value)
    if array.ndim not in ndim or array.dtype == object:
        raise HumanvidError(f"{source} is not a {kind.upper()} model file: '{key}' has shape {array.shape}")
    return array


class SmplBody(BodyModel):
    """SMPL / SMPL-X from arrays read by :func:`~humanvid.body.model_files.load_model_arrays`."""

    def __init__(self, arrays: dict[str, Any], kind: str = "smpl", num_betas: int = 10, source: str = "model file") -> None:
        super().__init__()
        if kind not in _SPECS:
            raise HumanvidError(f"unknown body model {kind!r}")
        self.name = kind
        self.initialization_joints = dict(_INITIALIZATION_JOINTS)
        self.wrist_joints = ("left_wrist", "right_wrist")
        joint_names = _JOINT_NAMES[kind]
        template = _require(arrays, "v_template", (2,), source, kind)
        shapedirs = _require(arrays, "shapedirs", (2, 3), source, kind)
        posedirs = _require(arrays, "posedirs", (2, 3), source, kind)
        regressor = _require(arrays, "J_regressor", (2,), source, kind)
        weights = _require(arrays, "weights", (2,), source, kind)
        kintree = _require(arrays, "kintree_table", (2,), source, kind)
        faces = _require(arrays, "f", (2,), source, kind)
        vertex_count, joint_count = template.shape[0], kintree.shape[-1]
        if joint_count != len(joint_names):
            other = {24: "SMPL", 52: "SMPL-H", 55: "SMPL-X"}.get(joint_count, f"a {joint_count}-joint model")
            raise HumanvidError(f"{source} has {joint_count} joints, which is {other}, not {kind.upper()}")
        if shapedirs.ndim == 2:
            shapedirs = shapedirs[:, :, None]
        expected = {
            "v_template": (template.shape, (vertex_count, 3)),
            "shapedirs": (shapedirs.shape[:2], (vertex_count, 3)),
            "J_regressor": (regressor.shape, (joint_count, vertex_count)),
            "weights": (weights.shape, (vertex_count, joint_count)),
            "kintree_table": (kintree.shape, (2, joint_count)),
            "posedirs": (posedirs.reshape(-1, posedirs.shape[-1]).shape, (vertex_count * 3, (joint_count - 1) * 9)),
        }
        for key, (found, wanted) in expected.items():
            if tuple(found) != wanted:
                raise HumanvidError(f"{source} is not a valid {kind.upper()} model: '{key}' has shape {tuple(found)}, expected {wanted}")
        if faces.shape[-1] != 3 or faces.min() < 0 or faces.max() >= vertex_count:
            raise HumanvidError(f"{source} is not a valid {kind.upper()} model: bad faces 'f'")
        num_betas = max(1, min(num_betas, shapedirs.shape[2]))
        as_tensor = lambda array: torch.as_tensor(np.ascontiguousarray(array, dtype=np.float64))  # noqa: E731

        self.pose_joint_names = joint_names[1 : 1 + _NUM_BODY_POSE[kind]]
        self.joint_names = joint_names
        self.shape_names = tuple(f"beta{i}" for i in range(num_betas))
        self.register_buffer("v_template", as_tensor(template), persistent=False)
        self.register_buffer("shapedirs", as_tensor(shapedirs[:, :, :num_betas]), persistent=False)
        self.register_buffer("posedirs", as_tensor(posedirs.reshape(-1, posedirs.shape[-1]).T), persistent=False)
        self.register_buffer("J_regressor", as_tensor(regressor), persistent=False)
        self.register_buffer("lbs_weights", as_tensor(weights), persistent=False)
        parents = torch.as_tensor(kintree[0].astype(np.int64))
        parents[0] = -1
        if bool((parents[1:] < 0).any()) or bool((parents[1:] >= torch.arange(1, joint_count)).any()):
            raise HumanvidError(f"{source} is not a valid {kind.upper()} model: bad 'kintree_table'")
        self.register_buffer("parents", parents, persistent=False)
        self.joint_parents = tuple(int(parent) for parent in parents)
        self.register_buffer("faces", torch.as_tensor(faces.astype(np.int64)), persistent=False)
        max_influences = int((weights > 0).sum(axis=1).max())
        indices, sparse_weights = dense_to_sparse_weights(self.lbs_weights, max_influences)
        self.register_buffer("skinning_indices", indices, persistent=False)
        self.register_buffer("skinning_weights", sparse_weights, persistent=False)
        self.register_buffer("rest_extra_pose", self._rest_extra_pose(arrays, kind, joint_count), persistent=False)

        self._init_keypoints(kind, vertex_count, joint_names)
        frames, lower, upper = pose_frames_and_limits(self.pose_joint_names)
        self.pose_prior = PosePrior(frames, torch.zeros_like(lower), prior_std_from_limits(lower, upper), lower, upper)
        inf = torch.full((num_betas,), float("inf"), dtype=torch.float64)
        self.shape_prior = ShapePrior(torch.zeros(num_betas, dtype=torch.float64), torch.ones(num_betas, dtype=torch.float64), -inf, inf)

    @staticmethod
    def _rest_extra_pose(arrays: dict[str, Any], kind: str, joint_count: int) -> torch.Tensor:
        """(J - 1 - P, 3) fixed axis-angles of the joints after the body pose (SMPL-X: jaw,
        eyes at rest, hands in the file's mean pose when present)."""
        extra = joint_count - 1 - _NUM_BODY_POSE[kind]
        rest = np.zeros((extra, 3))
        if kind == "smplx":
            for offset, key in ((3, "hands_meanl"), (18, "hands_meanr")):
                mean = arrays.get(key)
                if isinstance(mean, np.ndarray) and mean.size == 45:
                    rest[offset : offset + 15] = mean.reshape(15, 3)
        return torch.as_tensor(rest)

    def _init_keypoints(self, kind: str, vertex_count: int, joint_names: tuple[str, ...]) -> None:
        official_count, vertex_ids = _VERTEX_KEYPOINTS[kind]
        official = vertex_count == official_count
        names = list(joint_names) + list(vertex_ids)
        joint_index = {name: index for index, name in enumerate(joint_names)}
        # Each vertex keypoint: a vertex id when the topology is official, else a fallback joint.
        gather_vertex, gather_joint = [], []
        for name in vertex_ids:
            if official:
                gather_vertex.append(vertex_ids[name])
                continue
            side = "left_" if name.startswith("left") else "right_" if name.startswith("right") else ""
            part = next(key for key in _FALLBACK_JOINT if key in name)
            fallback = _FALLBACK_JOINT[part]
            gather_joint.append(joint_index[fallback if fallback == "head" else side + fallback])
        self.vertex_keypoints_available = official
        self.register_buffer("keypoint_vertex_ids", torch.tensor(gather_vertex, dtype=torch.int64), persistent=False)
        self.register_buffer("keypoint_fallback_joints", torch.tensor(gather_joint, dtype=torch.int64), persistent=False)
        mapping = build_mapping(_SPECS[kind], names, torch.float64)
        weights = mapping.weights.clone()
        if not official:
            uses_vertices = mapping.matrix[:, len(joint_names) :].abs().sum(dim=1) > 0
            weights[uses_vertices] = 0.0
        self.keypoint_native_names = tuple(names)
        self.register_buffer("keypoint_matrix", mapping.matrix, persistent=False)
        self.register_buffer("keypoint_weights", weights, persistent=False)

    @property
    def num_vertices(self) -> int:
        return self.v_template.shape[0]

    def forward(self, params: BodyParams) -> BodyOutput:
        """Pose the bodies: pose (B, P, 3), shape (1 or B, num_betas), global_orient and
        translation (B, 3). Returns a BodyOutput in the output frame."""
        from smplx.lbs import batch_rigid_transform, blend_shapes, vertices2joints

        pose = params.pose
        batch = pose.shape[0]
        if pose.shape[1:] != (len(self.pose_joint_names), 3):
            raise ValueError(f"{self.name} pose must be (B, {len(self.pose_joint_names)}, 3), got {tuple(pose.shape)}")
        betas = expand_shape(params.shape, batch)
        shaped = self.v_template + blend_shapes(betas, self.shapedirs)  # (B, V, 3)
        rest_joints = vertices2joints(self.J_regressor, shaped)  # (B, J, 3)

        full_pose = torch.cat(
            [params.global_orient[:, None], pose, self.rest_extra_pose.expand(batch, -1, -1)], dim=1
        )
        rotations = axis_angle_to_matrix(full_pose)  # (B, J, 3, 3)
        eye = torch.eye(3, dtype=rotations.dtype, device=rotations.device)
        pose_features = (rotations[:, 1:] - eye).reshape(batch, -1)
        rest_vertices = shaped + (pose_features @ self.posedirs).reshape(batch, -1, 3)
        posed_joints, transforms = batch_rigid_transform(rotations, rest_joints, self.parents, dtype=rotations.dtype)

        # Root at `translation`: shift everything by translation - (root joint at rest).
        shift = params.translation - rest_joints[:, 0]
        bone_transforms = rigid_matrix(eye.expand(batch, 3, 3), shift)[:, None] @ transforms
        blended = torch.einsum("vj,bjmn->bvmn", self.lbs_weights, bone_transforms)
        vertices = (blended[..., :3, :3] @ rest_vertices[..., None])[..., 0] + blended[..., :3, 3]
        joints = posed_joints + shift[:, None]

        native = torch.cat([joints, self._vertex_keypoints(vertices, joints)], dim=1)
        return BodyOutput(
            vertices=vertices,
            keypoints=map_to_mediapipe(native, self.keypoint_matrix),
            keypoint_weights=self.keypoint_weights,
            joints=joints,
            bone_transforms=bone_transforms,
            rest_vertices=rest_vertices,
            skinning_indices=self.skinning_indices,
            skinning_weights=self.skinning_weights,
        )

    def pose_parent_frames(self, params: BodyParams, output: BodyOutput) -> torch.Tensor:
        """See :meth:`BodyModel.pose_parent_frames`: SMPL's local rotations are in the
        parent's posed axes, so L is the parent's rest -> posed rotation."""
        parents = self.parents[1 : 1 + len(self.pose_joint_names)]
        return output.bone_transforms[:, parents, :3, :3]

    def _vertex_keypoints(self, vertices: torch.Tensor, joints: torch.Tensor) -> torch.Tensor:
        if self.vertex_keypoints_available:
            return vertices[:, self.keypoint_vertex_ids]
        return joints[:, self.keypoint_fallback_joints]
