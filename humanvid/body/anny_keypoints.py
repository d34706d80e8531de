"""Anny's native keypoints: its COCO-23 regressor, finger knuckles and a few face vertices.

Native keypoints (in :data:`ANNY_KEYPOINT_NAMES` order):
- the 23 COCO-WholeBody body+feet keypoints of `anny.KeypointsRegressor.coco` (nose, eyes,
  ears, shoulders, elbows, wrists, hips, knees, ankles, big/small toes, heels);
- finger knuckles as bone heads: index and little-finger MCP joints (`finger2-1`,
  `finger5-1`) and the thumb's IP joint (`finger1-3`), i.e. the knuckles MediaPipe names;
- eye corners and mouth corners as mesh vertices, chosen by probing the rest mesh
  (Anny 0.6.2 topology): the eye corners are the eyelid vertices at the extremes in x of
  the eyelid rim around each eyeball, the mouth corners the extremes in x of the rim of
  the mouth cavity. tests/body/test_body_anny.py checks where they land.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

import torch

# Vertex indices in Anny's default topology (13,718 vertices).
FACE_VERTICES: Mapping[str, int] = MappingProxyType({
    "left_eye_inner": 7883,
    "left_eye_outer": 11467,
    "right_eye_inner": 1207,
    "right_eye_outer": 4865,
    "mouth_left": 7256,
    "mouth_right": 527,
})
ANNY_VERTEX_COUNT = 13718

KNUCKLE_BONES: Mapping[str, str] = MappingProxyType({
    "left_index_knuckle": "finger2-1.L",
    "left_pinky_knuckle": "finger5-1.L",
    "left_thumb_knuckle": "finger1-3.L",
    "right_index_knuckle": "finger2-1.R",
    "right_pinky_knuckle": "finger5-1.R",
    "right_thumb_knuckle": "finger1-3.R",
})

COCO_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_big_toe", "right_big_toe", "left_small_toe", "right_small_toe",
    "left_heel", "right_heel",
)  # fmt: skip

ANNY_KEYPOINT_NAMES: tuple[str, ...] = COCO_NAMES + tuple(KNUCKLE_BONES) + tuple(FACE_VERTICES)


class AnnyKeypoints(torch.nn.Module):
    """Computes Anny's native keypoints from posed vertices and joints (no parameters).

    Buffers:
        coco_weights: (23, V) regression weights of the COCO keypoints over the vertices.
        knuckle_bone_ids: (6,) bone indices of the knuckles.
        face_vertex_ids: (6,) vertex indices of the eye and mouth corners.
    """

    def __init__(self, coco_weights: torch.Tensor, coco_labels: list[str], bone_labels: list[str]) -> None:
        super().__init__()
        if tuple(coco_labels) != COCO_NAMES:
            raise ValueError(f"unexpected COCO keypoint labels from anny: {coco_labels}")
        if coco_weights.shape[1] != ANNY_VERTEX_COUNT:
            raise ValueError(
                f"Anny mesh has {coco_weights.shape[1]} vertices, the keypoint vertices assume {ANNY_VERTEX_COUNT}"
            )
        bone_index = {label: index for index, label in enumerate(bone_labels)}
        self.register_buffer("coco_weights", coco_weights.clone(), persistent=False)
        self.register_buffer(
            "knuckle_bone_ids", torch.tensor([bone_index[b] for b in KNUCKLE_BONES.values()]), persistent=False
        )
        self.register_buffer("face_vertex_ids", torch.tensor(list(FACE_VERTICES.values())), persistent=False)

    @property
    def names(self) -> tuple[str, ...]:
        return ANNY_KEYPOINT_NAMES

    def forward(self, vertices: torch.Tensor, joints: torch.Tensor) -> torch.Tensor:
        """(B, V, 3) posed vertices and (B, J, 3) posed bone heads -> (B, 35, 3) keypoints.

        Both inputs must be in the same frame; COCO weights sum to one per keypoint, so the
        regression commutes with rigid transforms.
        """
        coco = torch.einsum("kv,bvd->bkd", self.coco_weights, vertices)
        return torch.cat([coco, joints[:, self.knuckle_bone_ids], vertices[:, self.face_vertex_ids]], dim=1)
