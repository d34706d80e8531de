"""The occupancy network: pixel-aligned image features + keypoint encoding (+ body SDF) → MLP.

Each feature can be switched off (NetworkConfig) for the ablations of
benchmarks/accuracy.py: (b) image only, (c) image + keypoints, (d) + body SDF.
With `body_residual` the MLP learns what the clothes add to the body: its output
is added to the body's own occupancy logit, −SDF / residual_scale (the body
surface is the 0.5 level), so a network that has learnt nothing yet returns
the body.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from humanvid.implicit.model.image_encoder import ImageEncoder
from humanvid.implicit.model.keypoint_encoding import keypoint_encoding
from humanvid.projection import project, to_grid_coordinates
from humanvid.constants import CROP_SIZE
from humanvid.landmarks import landmark_indices

SDF_CLAMP = 0.1  # metres; the body SDF feature saturates beyond this
# MediaPipe landmarks that carry the keypoint encoding: head, ears, and the limbs' joints and feet.
ENCODED_LANDMARKS = tuple(landmark_indices(
    "nose", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_foot_index", "right_foot_index"))


@dataclass(frozen=True)
class NetworkConfig:
    image_features: bool = True
    keypoint_encoding: bool = True
    body_sdf: bool = False
    body_residual: bool = False  # the output is a correction of the body's own logit (needs body_sdf)
    residual_scale: float = 0.01  # metres of body SDF per logit unit of the body's own occupancy
    feature_channels: int = 32
    encoder_channels: int = 32
    context_levels: int = 0  # image encoder levels below 1/8 (1/16, 1/32, …) for a person-sized receptive field
    hidden: int = 64  # 128 measured 3× slower per query point on a 2-core CPU
    encoded_landmarks: tuple[int, ...] = ENCODED_LANDMARKS  # of the 33 MediaPipe-ordered body keypoints
    frequencies: int = 3
    keypoint_sigma: float = 0.15  # metres
    depth_scale: float = 0.5  # metres, unit of the relative depths
    crop_size: int = CROP_SIZE

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def point_features(self) -> int:
        size = 2  # depth relative to the body, and the mask at the projection
        size += self.feature_channels if self.image_features else 0
        size += len(self.encoded_landmarks) * 2 * self.frequencies if self.keypoint_encoding else 0
        size += 1 if self.body_sdf else 0
        return size

    def __post_init__(self):
        if self.body_residual and not self.body_sdf:
            raise ValueError("a body-residual network needs the body-SDF feature")


class OccupancyMLP(nn.Module):
    """(…, F) point features → (…,) occupancy logits; the input is fed again halfway."""

    def __init__(self, features: int, hidden: int):
        super().__init__()
        self.first = nn.Sequential(nn.Linear(features, hidden), nn.LeakyReLU(0.1),
                                   nn.Linear(hidden, hidden), nn.LeakyReLU(0.1))
        self.second = nn.Sequential(nn.Linear(hidden + features, hidden), nn.LeakyReLU(0.1),
                                    nn.Linear(hidden, hidden // 2), nn.LeakyReLU(0.1), nn.Linear(hidden // 2, 1))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        # The input's share of the second block's first layer is computed together with the first
        # layer, in one matrix product: the same function as second(cat([first(x), x])), without
        # copying the features into a wider tensor (that copy cost ~10 % of a query on a CPU).
        hidden = self.first[2].in_features
        entry, skip = self.first[0], self.second[0]
        both = features @ torch.cat([entry.weight, skip.weight[:, hidden:]]).T  # (…, 2H)
        head, side = both.split(hidden, dim=-1)
        inner = self.first[3](self.first[2](self.first[1](head + entry.bias)))
        merged = torch.addmm(side.flatten(0, -2), inner.flatten(0, -2), skip.weight[:, :hidden].T, beta=1.0)
        merged = (merged + skip.bias).unflatten(0, features.shape[:-1])
        return self.second[1:](merged).squeeze(-1)


@dataclass
class EncodedImage:
    """What the network keeps of a crop between queries."""

    features: torch.Tensor | None  # (B, C, 128, 128), None without image features
    mask: torch.Tensor  # (B, 1, 512, 512) in [0, 1]


class OccupancyNetwork(nn.Module):
    def __init__(self, config: NetworkConfig = NetworkConfig()):
        super().__init__()
        self.config = config
        self.encoder = ImageEncoder(4, config.encoder_channels, config.feature_channels, config.context_levels) \
            if config.image_features else None
        self.mlp = OccupancyMLP(config.point_features, config.hidden)

    def encode(self, image: torch.Tensor, mask: torch.Tensor) -> EncodedImage:
        """image: (B, 3, S, S) RGB in [0, 1]; mask: (B, 1, S, S) in [0, 1]. Background is removed here."""
        features = None
        if self.encoder is not None:
            features = self.encoder(torch.cat([image * mask - 0.5 * mask, mask], dim=1))
        return EncodedImage(features, mask)

    def query(self, encoded: EncodedImage, points: torch.Tensor, camera: torch.Tensor, keypoints: torch.Tensor,
              body_sdf: torch.Tensor | None = None) -> torch.Tensor:
        """Occupancy logits (B, N) of camera-frame points (B, N, 3).

        camera: (B, 3, 3) crop camera (projection.crop_camera); keypoints: (B, 33, 3) fitted body
        keypoints in the camera frame (NaN where missing); body_sdf: (B, N) signed distance to
        the fitted body [m], negative inside (needed when the config uses it).
        """
        config = self.config
        grid = to_grid_coordinates(project(points, camera), config.crop_size)[:, :, None, :]  # (B, N, 1, 2)
        mask = nn.functional.grid_sample(encoded.mask, grid, align_corners=True).squeeze(-1).squeeze(1)
        reference = torch.nanmean(keypoints[..., 2], dim=1, keepdim=True)  # (B, 1) depth of the body
        parts = [((reference - points[..., 2]) / config.depth_scale)[..., None], mask[..., None]]
        if encoded.features is not None:
            sampled = nn.functional.grid_sample(encoded.features, grid, align_corners=True)  # (B, C, N, 1)
            parts.append(sampled.squeeze(-1).transpose(1, 2))
        if config.keypoint_encoding:
            selected = keypoints[:, list(config.encoded_landmarks)]
            parts.append(keypoint_encoding(points, selected, config.frequencies, config.keypoint_sigma,
                                           config.depth_scale))
        if config.body_sdf:
            if body_sdf is None:
                raise ValueError("this network needs the body SDF of each query point")
            clamped = body_sdf.clamp(-SDF_CLAMP, SDF_CLAMP)
            parts.append((clamped / SDF_CLAMP)[..., None])
        logits = self.mlp(torch.cat(parts, dim=-1))
        if config.body_residual:
            logits = logits - clamped / config.residual_scale
        return logits

    def forward(self, image, mask, points, camera, keypoints, body_sdf=None) -> torch.Tensor:
        return self.query(self.encode(image, mask), points, camera, keypoints, body_sdf)
