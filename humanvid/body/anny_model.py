"""Anny as a :class:`~humanvid.body.model.BodyModel`: the default body model.

Parameters (:class:`~humanvid.body.model.BodyParams`):
- pose: (B, 19, 3) axis-angle per bone of :data:`~humanvid.body.anny_pose.COMPACT_BONES`,
  Anny `local-ref` convention (axes of Anny's world at rest: x = body's left,
  y = backwards, z = up); see anny_pose.py for the measured sign conventions and limits.
- shape: (1 or B, 6) phenotypes in [0, 1]: gender (0 male, 1 female), age (0 baby,
  1/3 child, 2/3 young adult, 1 old), muscle, weight, height, proportions. Pass ONE row
  when the shape is shared by the batch: Anny then builds the rest body once (a batch of
  8 poses takes ~20 ms instead of ~180 ms on 2 cores).
- global_orient, translation: in the output frame; the root joint (between the hips) is
  at `translation`.

Create it with :func:`create_anny_body`. Anny's first instantiation on a machine builds a
cache (~1 minute, ~0.8 GB in ~/.cache/anny or $ANNY_CACHE_DIR); :func:`anny_cache_is_built`
tells a caller whether to announce that step.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import torch

from humanvid.body.anny_fast import compact_groups, dense_skinning_weights, pose_with_factors, rest_factors
from humanvid.body.anny_keypoints import ANNY_KEYPOINT_NAMES, AnnyKeypoints
from humanvid.body.anny_pose import COMPACT_BONES, compact_to_anny_pose, joint_frames, limit_tensors, prior_std
from humanvid.body.frames import anny_to_upright_matrix
from humanvid.body.keypoint_map import ANNY_SPEC, build_mapping, map_to_mediapipe
from humanvid.body.model import BodyModel, BodyOutput, BodyParams
from humanvid.body.priors import PosePrior, ShapePrior
from humanvid.body.rotations import axis_angle_to_matrix, invert_rigid, rigid_matrix, transform_point_sets
from humanvid.errors import HumanvidError

if TYPE_CHECKING:
    import anny

PHENOTYPE_NAMES: tuple[str, ...] = ("gender", "age", "muscle", "weight", "height", "proportions")

# Shape prior: an adult of average build. With these means the body is ~1.70 m tall
# (age 0.6, height 0.45); age 2/3 is Anny's "young adult" anchor.
PHENOTYPE_MEAN = (0.5, 0.6, 0.5, 0.5, 0.45, 0.5)
PHENOTYPE_STD = (0.5, 0.15, 0.25, 0.25, 0.2, 0.25)


def anny_cache_is_built() -> bool:
    """Whether Anny's model cache exists, i.e. creating the model will take ~0.3 s rather
    than a minute. Imports anny (a few seconds cold) to read its current cache version."""
    from anny.models.model_data import CURRENT_DATA_VERSION
    from anny.paths import get_anny_cache_path

    pattern = os.path.join(str(get_anny_cache_path()), f"v{CURRENT_DATA_VERSION}", "build_compact_model_data_*.safetensors")
    return bool(glob.glob(pattern))


def create_anny_body(dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu") -> "AnnyBody":
    """Build the Anny body model (~0.3-0.8 s once Anny's cache exists; see module docstring).

    Each call returns a new, independent model; keep it and pass it around rather than
    calling this per frame.
    """
    try:
        import anny
    except ImportError as error:  # pragma: no cover - anny is a dependency
        raise HumanvidError(f"the Anny body model needs the 'anny' package: {error}") from error
    try:
        anny_model = anny.Anny(pose_parameterization="local-ref")
    except OSError as error:
        cache = os.environ.get("ANNY_CACHE_DIR", str(Path.home() / ".cache" / "anny"))
        raise HumanvidError(f"could not build or read Anny's model cache in {cache}: {error}") from error
    coco = anny.KeypointsRegressor.coco(anny_model)
    return AnnyBody(anny_model, coco.regression_weights, list(coco.labels)).to(device=device, dtype=dtype)


class AnnyBody(BodyModel):
    """Thin wrapper around an `anny.Anny` model (its `local-ref` pose parameterisation).

    Outputs are in the output frame (upright, facing +z); see humanvid/body/model.py.
    """

    name = "anny"
    pose_joint_names = COMPACT_BONES
    shape_names = PHENOTYPE_NAMES
    keypoint_native_names = ANNY_KEYPOINT_NAMES
    initialization_joints = MappingProxyType({
        "spine": "spine02",
        "neck": "neck01",
        **{
            f"{side}_{role}": f"{bone}.{suffix}"
            for side, suffix in (("left", "L"), ("right", "R"))
            for role, bone in (
                ("upper_arm", "upperarm01"), ("forearm", "lowerarm01"),
                ("thigh", "upperleg01"), ("shin", "lowerleg01"), ("foot", "foot"),
            )
        },
    })  # fmt: skip
    wrist_joints = ("wrist.L", "wrist.R")

    def __init__(self, anny_model: "anny.Anny", coco_weights: torch.Tensor, coco_labels: list[str]) -> None:
        super().__init__()
        if anny_model.pose_parameterization != "local-ref":
            raise ValueError("AnnyBody expects an Anny model with the 'local-ref' pose parameterisation")
        if tuple(anny_model.phenotype_labels) != PHENOTYPE_NAMES:
            raise ValueError(f"unexpected Anny phenotypes {anny_model.phenotype_labels}")
        self.anny = anny_model
        self.joint_names = tuple(anny_model.bone_labels)
        self.joint_parents = tuple(max(int(parent), -1) for parent in anny_model.bone_parents)
        bone_index = {label: index for index, label in enumerate(self.joint_names)}
        self.register_buffer(
            "compact_bone_ids", torch.tensor([bone_index[bone] for bone in COMPACT_BONES]), persistent=False
        )
        self.register_buffer(
            "compact_parent_ids",
            torch.tensor([anny_model.bone_parents[bone_index[bone]] for bone in COMPACT_BONES]),
            persistent=False,
        )
        self.register_buffer("faces", anny_model.get_triangular_faces().clone(), persistent=False)
        self.register_buffer("skinning_indices", anny_model.vertex_bone_indices.clone(), persistent=False)
        self.register_buffer("skinning_weights", anny_model.vertex_bone_weights.clone(), persistent=False)
        dtype = anny_model.dtype
        self.register_buffer("upright", anny_to_upright_matrix(dtype), persistent=False)
        self.keypoints = AnnyKeypoints(coco_weights, coco_labels, list(self.joint_names))
        # For the fitting loop (anny_fast.py): dense skinning weights and the keypoint regressor.
        self.register_buffer(
            "dense_skin", dense_skinning_weights(self.skinning_indices, self.skinning_weights, len(self.joint_names)),
            persistent=False,
        )  # fmt: skip
        face_rows = torch.nn.functional.one_hot(self.keypoints.face_vertex_ids, coco_weights.shape[1]).to(coco_weights)
        regressor = torch.cat([coco_weights, face_rows])
        self.register_buffer("fast_regressor", regressor, persistent=False)
        groups, parent_groups = compact_groups(list(anny_model.bone_parents), self.compact_bone_ids.tolist())
        self.register_buffer("fast_groups", groups, persistent=False)
        self.fast_parent_groups = tuple(parent_groups)
        self.register_buffer("fast_regressor_vertices", torch.nonzero(regressor.abs().sum(0) > 0)[:, 0], persistent=False)
        mapping = build_mapping(ANNY_SPEC, ANNY_KEYPOINT_NAMES, dtype)
        self.register_buffer("keypoint_matrix", mapping.matrix, persistent=False)
        self.register_buffer("keypoint_weights", mapping.weights, persistent=False)

        shape_mean = torch.tensor(PHENOTYPE_MEAN, dtype=dtype)
        self.shape_prior = ShapePrior(
            mean=shape_mean,
            std=torch.tensor(PHENOTYPE_STD, dtype=dtype),
            lower=torch.zeros(len(PHENOTYPE_NAMES), dtype=dtype),
            upper=torch.ones(len(PHENOTYPE_NAMES), dtype=dtype),
        )
        with torch.no_grad():
            rest_heads = anny_model(phenotype_kwargs=shape_mean[None])["rest_bone_heads"][0]
        frames = joint_frames({label: rest_heads[index] for label, index in bone_index.items()})
        lower, upper = limit_tensors(dtype)
        std = prior_std(dtype)
        self.pose_prior = PosePrior(frames.to(dtype), torch.zeros_like(std), std, lower, upper)

    @property
    def num_vertices(self) -> int:
        return self.skinning_indices.shape[0]

    def forward(self, params: BodyParams) -> BodyOutput:
        """Pose the bodies.

        Args:
            params: pose (B, 19, 3), shape (1 or B, 6), global_orient (B, 3), translation (B, 3).
        Returns:
            BodyOutput in the output frame; joints are Anny's 104 bone heads.
        """
        pose = params.pose
        batch = pose.shape[0]
        if pose.shape[1:] != (len(COMPACT_BONES), 3):
            raise ValueError(f"Anny pose must be (B, {len(COMPACT_BONES)}, 3), got {tuple(pose.shape)}")
        if params.shape.dim() != 2 or params.shape.shape[0] not in (1, batch) or params.shape.shape[1] != 6:
            raise ValueError(f"Anny shape must be (1 or {batch}, 6), got {tuple(params.shape.shape)}")

        anny_pose = compact_to_anny_pose(axis_angle_to_matrix(pose), self.compact_bone_ids, len(self.joint_names))
        out = self.anny(pose_parameters=anny_pose, phenotype_kwargs=params.shape)

        # Anny world (root at the origin) -> output frame: x -> R_global (A x) + t.
        to_output = rigid_matrix(axis_angle_to_matrix(params.global_orient) @ self.upright, params.translation)
        # Rest space in upright axes: rest_upright = A rest_anny, hence T_out = G T_anny [A^T | 0].
        from_rest_upright = rigid_matrix(self.upright.T, torch.zeros_like(self.upright[0]))
        anny_transforms = out["bone_poses"] @ invert_rigid(out["rest_bone_poses"])
        bone_transforms = to_output[:, None] @ anny_transforms @ from_rest_upright

        vertices = transform_point_sets(to_output, out["vertices"])
        joints = transform_point_sets(to_output, out["bone_poses"][..., :3, 3])
        native = self.keypoints(vertices, joints)
        return BodyOutput(
            vertices=vertices,
            keypoints=map_to_mediapipe(native, self.keypoint_matrix),
            keypoint_weights=self.keypoint_weights,
            joints=joints,
            bone_transforms=bone_transforms,
            rest_vertices=out["rest_vertices"] @ self.upright.T,
            skinning_indices=self.skinning_indices,
            skinning_weights=self.skinning_weights,
        )

    def prepare_fit(self, shape: torch.Tensor, vertex_ids: torch.Tensor) -> object:
        """Rest factors of `shape` (anny_fast.py): keypoints and chosen vertices without
        skinning the whole mesh."""
        return rest_factors(self, shape, vertex_ids)

    def fit_forward(self, params: BodyParams, prepared: object) -> tuple[torch.Tensor, torch.Tensor]:
        """See :meth:`BodyModel.fit_forward` (exactly `forward`'s values, much cheaper)."""
        return pose_with_factors(self, params, prepared)

    def pose_parent_frames(self, params: BodyParams, output: BodyOutput) -> torch.Tensor:
        """See :meth:`BodyModel.pose_parent_frames`. In local-ref, a bone's rest -> posed
        rotation is B_c = B_p A E_p D_c F_c A^T (output axes, A: Anny -> upright), with
        E_p = R_p U_p^T from the parent's rest (R) and reference (U) orientations, so
        L = B_p A E_p. R depends on the shape: this runs Anny once more at rest."""
        parents = self.compact_parent_ids
        rest = self.anny(phenotype_kwargs=params.shape)["rest_bone_poses"][:, parents, :3, :3]
        references = self.anny.reference_bone_orientations
        offsets = rest if references is None else rest @ references[parents].transpose(-1, -2)
        return output.bone_transforms[:, parents, :3, :3] @ self.upright @ offsets

    def native_keypoints(self, output: BodyOutput) -> torch.Tensor:
        """(B, 35, 3) Anny's own keypoints (:data:`ANNY_KEYPOINT_NAMES`) for an output."""
        return self.keypoints(output.vertices, output.joints)
