"""One training sample of the occupancy network on disk: what the generator writes, what training reads.

A sample folder holds
    crop.png     512×512 RGB crop, cut by the real preprocessing (MediaPipe → crop); or crop.jpg in
                 a compact copy (see compact_sample)
    mask.png     512×512 person mask of the same crop (MediaPipe's, as at inference)
    sample.npz   intrinsics (4,) fx, fy, cx, cy of the full frame [px]
                 affine (2, 3) full frame → crop pixels
                 keypoints (33, 3) body keypoints in MediaPipe order, camera frame [m], NaN where missing
                 points (N, 3) float16 occupancy sample points, camera frame [m]
                 inside (N,) bool, whether each point is inside the clothed surface
    body.npz     (synthetic samples) the true body: vertices (1, V, 3) camera frame [m], faces (F, 3);
                 read only for networks with the body-SDF feature
All 3D quantities are in the OpenGL camera frame of DESIGN.md (x right, y up, looking down −z).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from humanvid import atomic
from humanvid.errors import HumanvidError

SAMPLE_KEYS = ("intrinsics", "affine", "keypoints", "points", "inside")


@dataclass
class TrainingSample:
    crop: np.ndarray  # (512, 512, 3) uint8 RGB
    mask: np.ndarray  # (512, 512) uint8
    intrinsics: np.ndarray  # (4,)
    affine: np.ndarray  # (2, 3)
    keypoints: np.ndarray  # (33, 3)
    points: np.ndarray  # (N, 3)
    inside: np.ndarray  # (N,) bool
    body_vertices: np.ndarray | None = None  # (V, 3) float32 true body, camera frame [m]
    body_faces: np.ndarray | None = None  # (F, 3) int32


def write_sample(folder: str | Path, sample: TrainingSample, crop_suffix: str = ".png") -> None:
    """Write a sample atomically, file by file; sample.npz last, so its presence means complete."""
    folder = Path(folder)
    atomic.write_image(folder / f"crop{crop_suffix}", sample.crop)
    atomic.write_image(folder / "mask.png", sample.mask)
    atomic.write_npz(folder / "sample.npz", intrinsics=sample.intrinsics.astype(np.float64),
                     affine=sample.affine.astype(np.float64), keypoints=sample.keypoints.astype(np.float32),
                     points=sample.points.astype(np.float16), inside=sample.inside.astype(bool))


def read_sample(folder: str | Path, with_body: bool = False) -> TrainingSample:
    """The sample in `folder`; with_body also reads its true body (body.npz)."""
    folder = Path(folder)
    crop_path = folder / "crop.png" if (folder / "crop.png").exists() else folder / "crop.jpg"
    crop = cv2.imread(str(crop_path), cv2.IMREAD_COLOR)
    mask = cv2.imread(str(folder / "mask.png"), cv2.IMREAD_GRAYSCALE)
    if crop is None or mask is None:
        raise HumanvidError(f"{folder}: incomplete training sample (crop.png or crop.jpg / mask.png missing or unreadable)")
    try:
        with np.load(folder / "sample.npz") as data:
            arrays = {key: data[key] for key in SAMPLE_KEYS}
    except (OSError, KeyError, ValueError) as err:
        raise HumanvidError(f"{folder}: incomplete training sample ({err})") from None
    sample = TrainingSample(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB), mask, arrays["intrinsics"], arrays["affine"],
                            arrays["keypoints"], arrays["points"].astype(np.float32), arrays["inside"])
    if with_body:
        try:
            with np.load(folder / "body.npz") as body:
                sample.body_vertices = body["vertices"][0].astype(np.float32)
                sample.body_faces = body["faces"].astype(np.int32)
        except (OSError, KeyError, ValueError) as err:
            raise HumanvidError(f"{folder}: the body-SDF feature needs the sample's true body ({err})") from None
    return sample


def compact_sample(sample: TrainingSample, point_count: int, rng: np.random.Generator) -> TrainingSample:
    """The sample with `point_count` of its occupancy points (chosen at random) and its background
    black: the network never sees pixels outside the mask, and a black background compresses well."""
    chosen = np.sort(rng.choice(len(sample.points), min(point_count, len(sample.points)), replace=False))
    crop = np.where(sample.mask[..., None] > 0, sample.crop, 0).astype(np.uint8)
    return TrainingSample(crop, sample.mask, sample.intrinsics, sample.affine, sample.keypoints,
                          sample.points[chosen], sample.inside[chosen])


def find_samples(root: str | Path) -> list[Path]:
    """Sample folders (holding a sample.npz) under `root`, in sorted order."""
    return sorted(path.parent for path in Path(root).rglob("sample.npz"))
