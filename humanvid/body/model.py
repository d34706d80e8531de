"""The body-model interface shared by Anny and SMPL / SMPL-X.

Every model works in the same output frame: the OpenGL camera convention of DESIGN.md
(x right, y up, the camera looking down -z). With a zero `global_orient` the body stands
upright (+y) and faces the camera (+z), so its own left side is on +x; `translation` is
the position of its root joint (the pelvis). Frame conversions from each model's native
axes happen inside the model.

Parameters go in as a :class:`BodyParams`, results come out as a :class:`BodyOutput`.
Keypoints come out in MediaPipe's 33-landmark order with a weight per landmark telling how
well the model's point matches MediaPipe's definition (0 where it cannot express it).
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

import numpy as np
import torch

from humanvid.body.priors import PosePrior, ShapePrior
from humanvid.body.skinning import blend_transforms, carry_points


@dataclasses.dataclass
class BodyParams:
    """Parameters of a batch of B bodies.

    Attributes:
        global_orient: (B, 3) axis-angle rotation about the root joint, in the output frame.
        translation: (B, 3) metres, position of the root joint in the output frame.
        pose: (B, P, 3) axis-angle per posable joint, in the model's own convention
            (see the model's `pose_joint_names`).
        shape: (B, S) or (1, S) shape parameters (Anny: phenotypes in [0, 1]; SMPL: betas).
            A single row is shared by the whole batch (one body shape per video).
    """

    global_orient: torch.Tensor
    translation: torch.Tensor
    pose: torch.Tensor
    shape: torch.Tensor

    @property
    def batch_size(self) -> int:
        return self.pose.shape[0]

    def detach(self) -> "BodyParams":
        return BodyParams(*(value.detach() for value in dataclasses.astuple(self)))

    def clone(self) -> "BodyParams":
        return BodyParams(*(value.clone() for value in dataclasses.astuple(self)))

    def index(self, frames: torch.Tensor | slice | Sequence[int]) -> "BodyParams":
        """A sub-batch (the shape is kept as is when it has a single row)."""
        shape = self.shape if self.shape.shape[0] == 1 else self.shape[frames]
        return BodyParams(self.global_orient[frames], self.translation[frames], self.pose[frames], shape)


@dataclasses.dataclass
class BodyOutput:
    """A batch of B posed bodies, in the output frame (metres).

    Attributes:
        vertices: (B, V, 3) posed surface vertices.
        keypoints: (B, 33, 3) keypoints in MediaPipe Pose order.
        keypoint_weights: (33,) how far each keypoint can be trusted as MediaPipe's landmark
            (0: not expressible by this model, its coordinates are then a placeholder).
        joints: (B, J, 3) posed skeleton joints (the model's `joint_names`).
        bone_transforms: (B, J, 4, 4) rigid rest -> posed transform of each bone.
        rest_vertices: (B or 1, V, 3) the vertices of the same body shape in its rest pose,
            in the rest space the bone transforms start from.
        skinning_indices: (V, K) bones influencing each vertex (shared with the model).
        skinning_weights: (V, K) their weights, rows summing to 1.
    """

    vertices: torch.Tensor
    keypoints: torch.Tensor
    keypoint_weights: torch.Tensor
    joints: torch.Tensor
    bone_transforms: torch.Tensor
    rest_vertices: torch.Tensor
    skinning_indices: torch.Tensor
    skinning_weights: torch.Tensor

    @property
    def batch_size(self) -> int:
        return self.vertices.shape[0]

    def vertex_transforms(self, vertex_ids: torch.Tensor | None = None) -> torch.Tensor:
        """(B, N, 4, 4) linear-blend skinning transforms (rest -> posed) of the given vertices
        (all V when None). A point attached to vertex i moves as T[b, i] @ rest_point."""
        return blend_transforms(self.bone_transforms, self.skinning_indices, self.skinning_weights, vertex_ids)

    def carry(self, points: torch.Tensor, vertex_ids: torch.Tensor, source: int, target: int) -> torch.Tensor:
        """Move points from body `source` to body `target` of the batch, each point following
        the skinning of its vertex in `vertex_ids` (e.g. its nearest body vertex).

        Args:
            points: (N, 3) points around body `source`.
            vertex_ids: (N,) vertex index attached to each point.
        Returns:
            (N, 3) points around body `target`.
        """
        transforms = self.vertex_transforms(vertex_ids)
        return carry_points(points, transforms[source], transforms[target])


class BodyModel(torch.nn.Module):
    """Base class of the body models: a thin torch wrapper with no trainable parameters.

    Subclasses set the attributes below in `__init__` and implement :meth:`forward`.

    Attributes:
        name: "anny", "smpl" or "smplx".
        pose_joint_names: the P joints of `BodyParams.pose`, in order.
        shape_names: the S entries of `BodyParams.shape`.
        joint_names: the J joints of `BodyOutput.joints`.
        joint_parents: (J,) the parent of each joint, −1 for the root.
        faces: (F, 3) int64 triangle buffer.
        pose_prior: :class:`PosePrior` over the P joints.
        shape_prior: :class:`ShapePrior` over the S shape parameters.
        initialization_joints: role -> pose joint name, for the roles of
            :data:`humanvid.body.initialization.ROLES` ("spine", "left_upper_arm", ...).
        wrist_joints: the left and right wrist among `joint_names`: each hand is its wrist and all the
            joints below it.
    """

    name: str
    pose_joint_names: tuple[str, ...]
    shape_names: tuple[str, ...]
    joint_names: tuple[str, ...]
    joint_parents: tuple[int, ...]
    faces: torch.Tensor
    pose_prior: PosePrior
    shape_prior: ShapePrior
    initialization_joints: Mapping[str, str]
    wrist_joints: tuple[str, str]

    @property
    def dtype(self) -> torch.dtype:
        return self.pose_prior.mean.dtype

    @property
    def device(self) -> torch.device:
        return self.pose_prior.mean.device

    @property
    def num_vertices(self) -> int:
        raise NotImplementedError

    def neutral_params(self, batch_size: int = 1) -> BodyParams:
        """Rest pose, upright facing the camera, root at the origin, and the prior's mean
        shape as a single shared row (1, S)."""
        zeros = torch.zeros(batch_size, 3, dtype=self.dtype, device=self.device)
        return BodyParams(
            global_orient=zeros.clone(),
            translation=zeros.clone(),
            pose=torch.zeros(batch_size, len(self.pose_joint_names), 3, dtype=self.dtype, device=self.device),
            shape=self.shape_prior.mean[None].clone(),
        )

    @property
    def hand_joints(self) -> np.ndarray:
        """(H,) indices into `joint_names` of both hands' joints: the wrists and every joint below them."""
        inside = np.isin(self.joint_names, self.wrist_joints)
        parents = np.asarray(self.joint_parents)
        for _ in range(len(parents)):  # a joint is in a hand when its parent is
            grown = inside | ((parents >= 0) & inside[np.maximum(parents, 0)])
            if (grown == inside).all():
                break
            inside = grown
        return np.flatnonzero(inside)

    def ancestors(self, joint: str) -> set[str]:
        """The names of the joints above `joint` (one of `joint_names`) in the skeleton, the root included."""
        found, parent = set(), self.joint_parents[self.joint_names.index(joint)]
        while parent >= 0:
            found.add(self.joint_names[parent])
            parent = self.joint_parents[parent]
        return found

    def forward(self, params: BodyParams) -> BodyOutput:  # pragma: no cover - abstract
        raise NotImplementedError

    def prepare_fit(self, shape: torch.Tensor, vertex_ids: torch.Tensor) -> object:
        """What :meth:`fit_forward` needs for bodies of one shape (1, S) and the (N,) vertices
        it should return; models with a cheaper path than `forward` precompute it here
        (differentiable in `shape`). The default keeps the arguments."""
        return shape, vertex_ids

    def fit_forward(self, params: BodyParams, prepared: object) -> tuple[torch.Tensor, torch.Tensor]:
        """Keypoints (B, 33, 3) and the prepared vertices (B, N, 3) of `params` (whose shape
        is the prepared one): all the fitting loop evaluates. Default: a full forward."""
        output = self(params)
        return output.keypoints, output.vertices[:, prepared[1]]

    def pose_parent_frames(self, params: BodyParams, output: BodyOutput) -> torch.Tensor:  # pragma: no cover
        """(B, P, 3, 3) frames L of the pose joints' parents in this pose: rotating pose
        joint p (and everything below it) about its head by a world rotation R (output frame)
        is the local change  rotation(pose[p]) <- L^T R L rotation(pose[p])."""
        raise NotImplementedError

    def rest_height(self, shape: torch.Tensor) -> torch.Tensor:
        """(1, S) shape -> () its body's height in metres: the vertical extent of the rest pose
        (sole to crown; differentiable in the shape)."""
        params = self.neutral_params(1)
        params.shape = shape
        heights = self(params).vertices[0, :, 1]
        return heights.max() - heights.min()

    def prior_energies(self, params: BodyParams) -> dict[str, torch.Tensor]:
        """The prior terms of a fit, each (B,) (shape terms per shape row)."""
        return {
            "pose_gaussian": self.pose_prior.gaussian_energy(params.pose),
            "pose_limits": self.pose_prior.limit_violation(params.pose),
            "shape_gaussian": self.shape_prior.gaussian_energy(params.shape),
            "shape_limits": self.shape_prior.limit_violation(params.shape),
        }


def expand_shape(shape: torch.Tensor, batch_size: int) -> torch.Tensor:
    """(1 or B, S) -> (B, S) without copying."""
    if shape.shape[0] not in (1, batch_size):
        raise ValueError(f"shape has {shape.shape[0]} rows for a batch of {batch_size} poses")
    return shape.expand(batch_size, -1)
