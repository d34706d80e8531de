"""One frame as the network sees it: its crop, mask, crop camera and fitted body → an occupancy function.

Where the network reads the fitted body, its occupancy is also raised inside that body (its logit
+ BODY_PRIOR, reached BODY_PRIOR_REACH deep), so a thin limb the fit put where the mask shows it is
kept where the network's own answer is unsure (model card: aligned Chamfer / P2S on synthetic
validation stills −1 % / −3 %).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from humanvid.constants import BOX_MARGIN
from humanvid.geometry.body_distance import BodySurface, DistanceLattice
from humanvid.implicit.inference.meshing import OccupancyFn
from humanvid.implicit.model.network import EncodedImage, OccupancyNetwork
from humanvid.projection import crop_camera, project

SDF_SPACING = 0.03  # metres between the nodes the body SDF is interpolated from
BODY_PRIOR = 1.0  # logit added to the occupancy inside the fitted body (networks that read the body)
BODY_PRIOR_REACH = 0.02  # metres inside the body's surface at which the whole prior is added
PRIOR_BOX_MARGIN = 2 * SDF_SPACING  # metres around the body covered by the prior's distance lattice

PixelsFn = Callable[[np.ndarray], np.ndarray]  # (N, 3) camera-frame points → (N, 2) crop pixels


@dataclass
class FrameInputs:
    """What the network needs of one frame (arrays as written by preprocessing and fitting)."""

    crop: np.ndarray  # (512, 512, 3) uint8 RGB
    mask: np.ndarray  # (512, 512) uint8
    intrinsics: np.ndarray  # (4,) fx, fy, cx, cy of the full frame
    affine: np.ndarray  # (2, 3) full frame → crop
    keypoints: np.ndarray  # (33, 3) fitted body keypoints, camera frame (NaN where missing)
    body_vertices: np.ndarray  # (V, 3) fitted body, camera frame
    body_faces: np.ndarray | None = None  # (F, 3) of the body mesh; needed by networks with the body SDF


@dataclass
class EncodedFrame:
    encoded: EncodedImage
    camera: torch.Tensor  # (1, 3, 3) crop camera
    keypoints: torch.Tensor  # (1, 33, 3)
    body: DistanceLattice | None = None  # the body SDF around the body (body-SDF feature, body prior)
    body_prior: float = 0.0  # logit added inside the body (reached BODY_PRIOR_REACH deep); 0: none

    def raised_by_body(self, logits: torch.Tensor, body_sdf: np.ndarray) -> torch.Tensor:
        """(1, N) logits, (N,) signed distances to the body → the logits with the body prior added."""
        inside = np.clip(-body_sdf / BODY_PRIOR_REACH, 0.0, 1.0).astype(np.float32)
        return logits + self.body_prior * torch.from_numpy(inside)[None].to(logits.device)


@torch.no_grad()
def encode_frame(network: OccupancyNetwork, frame: FrameInputs, device: str = "cpu",
                 body_prior: float = BODY_PRIOR) -> EncodedFrame:
    """The frame's image features, crop camera and keypoints; with the body mesh (FrameInputs.body_faces)
    and a network that reads the body, also the body SDF lattice and the `body_prior` it raises the
    occupancy by (0: none)."""
    if network.config.body_sdf and frame.body_faces is None:
        raise ValueError("this network needs the body mesh (FrameInputs.body_faces) for its body-SDF feature")
    reads_body = network.config.body_sdf or network.config.keypoint_encoding
    body_prior = body_prior if reads_body and frame.body_faces is not None else 0.0
    body = None
    if network.config.body_sdf or body_prior > 0:
        # The prior alone needs the distance only inside the body: a lattice just around it is enough (3x cheaper).
        low, high = body_box(frame) if network.config.body_sdf else body_box(frame, PRIOR_BOX_MARGIN)
        body = BodySurface(frame.body_vertices, frame.body_faces).lattice(low, high, SDF_SPACING)
    image = torch.from_numpy(frame.crop).permute(2, 0, 1)[None].float().to(device) / 255.0
    mask = torch.from_numpy(frame.mask)[None, None].float().to(device) / 255.0
    camera = crop_camera(torch.tensor(frame.intrinsics[None], dtype=torch.float32),
                         torch.tensor(frame.affine[None], dtype=torch.float32)).to(device)
    keypoints = torch.tensor(frame.keypoints[None], dtype=torch.float32, device=device)
    return EncodedFrame(network.encode(image, mask), camera, keypoints, body, body_prior)


def occupancy_function(network: OccupancyNetwork, frame: EncodedFrame, batch: int = 65_536) -> OccupancyFn:
    """(N, 3) camera-frame points → (N,) occupancy probabilities of this frame."""
    device = frame.camera.device

    @torch.no_grad()
    def occupancy(points: np.ndarray) -> np.ndarray:
        out = np.empty(len(points), np.float32)
        for start in range(0, len(points), batch):
            part = np.ascontiguousarray(points[start:start + batch], np.float32)
            chunk = torch.from_numpy(part)[None].to(device)
            distance = None if frame.body is None else frame.body.signed_distance(part).astype(np.float32)
            body_sdf = torch.from_numpy(distance)[None].to(device) if network.config.body_sdf else None
            logits = network.query(frame.encoded, chunk, frame.camera, frame.keypoints, body_sdf)
            if frame.body_prior > 0:
                logits = frame.raised_by_body(logits, distance)
            out[start:start + batch] = torch.sigmoid(logits)[0].cpu().numpy()
        return out

    return occupancy


def crop_pixels(frame: FrameInputs) -> PixelsFn:
    """(N, 3) camera-frame points → (N, 2) their pixels in the frame's 512×512 crop."""
    camera = crop_camera(torch.tensor(frame.intrinsics[None], dtype=torch.float32),
                         torch.tensor(frame.affine[None], dtype=torch.float32))

    def pixels(points: np.ndarray) -> np.ndarray:
        return project(torch.from_numpy(np.ascontiguousarray(points[None], np.float32)), camera)[0].numpy()

    return pixels


def body_box(frame: FrameInputs, margin: float = BOX_MARGIN) -> tuple[np.ndarray, np.ndarray]:
    """(3,) low and high corner of the fitted body's box grown by `margin` [m] (BOX_MARGIN: where the
    surface is sought)."""
    return frame.body_vertices.min(axis=0) - margin, frame.body_vertices.max(axis=0) + margin
