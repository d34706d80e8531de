"""OUT/<name>/, the run folder of one input: where each output lives, and how it is read and written.

Layout (DESIGN.md output contract; NNNNNN = the source frame index, six digits):

    run.json            the manifest: settings, stages, per-frame status and figures
    keypoints.json      per frame: MediaPipe's 33 landmarks, world landmarks, the crop
    camera.json         the full frame's intrinsics and the world convention
    crops/NNNNNN.png    512×512 RGB crop around the person
    masks/NNNNNN.png    8-bit person mask of the same crop
    body/params.npz     the fitted body parameters (humanvid.exchange.body_params)
    body/NNNNNN.obj     the fitted body per frame
    meshes/NNNNNN.obj   the clothed mesh per frame (one topology for the whole video, unless per-frame)
    meshes/texture.mtl  their material: avatar/texture.png
    avatar/             the canonical clothed mesh in the body's rest pose, its skin and its texture
                        (humanvid.exchange.avatar)
    avatar.glb          the textured canonical mesh, skinned and animated (humanvid.exchange.gltf)
    viewer.html         the avatar over and beside the frames (humanvid.export.viewer)
    preview.mp4         the meshes over the frames and from a circling camera (humanvid.export.preview)
    .work/              preprocessing's intermediate files, removed when it completes

Every file is written atomically (humanvid.atomic): a reader never sees half of one.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np

from humanvid import atomic
from humanvid.camera import Camera
from humanvid.constants import CROP_SIZE
from humanvid.errors import HumanvidError
from humanvid.landmarks import NUM_LANDMARKS

FRAME_DIGITS = 6
KEYPOINTS_FORMAT = "humanvid-keypoints-1"
WORK_DIR = ".work"
TRASH_PREFIX = ".humanvid-old-"  # outputs replaced by --overwrite, being deleted
GENERATED = ("run.json", "keypoints.json", "camera.json", "crops", "masks", "body", "meshes", "avatar", WORK_DIR,
             "preview.mp4", "avatar.glb", "viewer.html", "people.png")


def frame_name(index: int) -> str:
    """The zero-padded name of source frame `index` ("000042"): sorted names are the playback order."""
    return f"{int(index):0{FRAME_DIGITS}d}"


@dataclass
class KeypointFrame:
    """One entry of keypoints.json, as preprocessing found it (arrays in full-frame pixels unless stated)."""

    frame: int  # source frame index
    status: str  # "ok" | "no_person" | "failed: reason"
    landmarks: np.ndarray | None = None  # (33, 4) x, y [px], z [px about the hips, MediaPipe scale], visibility
    world_landmarks: np.ndarray | None = None  # (33, 3) metres about the hip centre, MediaPipe's world frame (y down)
    smoothed: np.ndarray | None = None  # (33, 2) x, y [px], zero-lag One-Euro smoothing
    crop_landmarks: np.ndarray | None = None  # (33, 2) the smoothed landmarks in crop pixels
    crop_center: np.ndarray | None = None  # (2,) [px]
    crop_side: float | None = None  # [px]
    crop_affine: np.ndarray | None = None  # (2, 3) full-frame px → crop px


@dataclass
class KeypointTrack:
    """keypoints.json read back, for its T frames (NaN, zeros or False where a frame has no person)."""

    frames: np.ndarray  # (T,) int64 source frame indices
    found: np.ndarray  # (T,) bool, a person was detected
    landmarks: np.ndarray  # (T, 33, 4) x, y, z [px], visibility; NaN without a person
    world_landmarks: np.ndarray  # (T, 33, 3) [m]; NaN without a person
    affines: np.ndarray  # (T, 2, 3) full-frame px → crop px; zeros without a person


@dataclass(frozen=True)
class RunFolder:
    """The outputs of one input under `root` (OUT/<name>/)."""

    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    # -- where things are -------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / "run.json"

    @property
    def keypoints_path(self) -> Path:
        return self.root / "keypoints.json"

    @property
    def camera_path(self) -> Path:
        return self.root / "camera.json"

    @property
    def crops(self) -> Path:
        return self.root / "crops"

    @property
    def masks(self) -> Path:
        return self.root / "masks"

    @property
    def bodies(self) -> Path:
        return self.root / "body"

    @property
    def body_params_path(self) -> Path:
        return self.bodies / "params.npz"

    @property
    def meshes(self) -> Path:
        return self.root / "meshes"

    @property
    def avatar(self) -> Path:
        return self.root / "avatar"

    @property
    def preview_path(self) -> Path:
        return self.root / "preview.mp4"

    @property
    def work(self) -> Path:
        return self.root / WORK_DIR

    def crop_path(self, frame: int) -> Path:
        return self.crops / f"{frame_name(frame)}.png"

    def mask_path(self, frame: int) -> Path:
        return self.masks / f"{frame_name(frame)}.png"

    def body_mesh_path(self, frame: int) -> Path:
        return self.bodies / f"{frame_name(frame)}.obj"

    def mesh_path(self, frame: int) -> Path:
        return self.meshes / f"{frame_name(frame)}.obj"

    # -- run.json ---------------------------------------------------------------------------------------
    def read_manifest(self) -> dict | None:
        """The manifest, or None if there is none or it cannot be read."""
        try:
            return json.loads(self.manifest_path.read_text())
        except (OSError, ValueError):
            return None

    def write_manifest(self, manifest: dict) -> None:
        atomic.write_json(self.manifest_path, manifest)

    # -- camera.json ------------------------------------------------------------------------------------
    def write_camera(self, camera: Camera) -> None:
        atomic.write_json(self.camera_path, camera.as_dict())

    def read_camera(self) -> Camera:
        try:
            return Camera.from_dict(json.loads(self.camera_path.read_text()))
        except (OSError, ValueError, KeyError) as err:
            raise HumanvidError(f"{self.root}: camera.json is missing or damaged ({err})") from None

    # -- keypoints.json ---------------------------------------------------------------------------------
    def write_keypoints(self, frame_size: tuple[int, int], entries: Iterable[KeypointFrame]) -> None:
        """Write keypoints.json entry by entry (atomically), so memory does not grow with the video."""
        header = {
            "format": KEYPOINTS_FORMAT,
            "landmark_order": "MediaPipe Pose 33",
            "landmarks": "x, y [full-frame px], z [px, relative to the hip centre, MediaPipe scale], visibility",
            "world_landmarks": "x, y, z [m] about the hip centre, MediaPipe world frame (y down)",
            "landmarks_smoothed": "x, y [full-frame px], zero-lag One-Euro smoothing",
            "crop_affine": f"2x3 matrix A: [u, v] = A @ [x, y, 1] maps full-frame px to {CROP_SIZE}x{CROP_SIZE} crop px",
            "crop_size": CROP_SIZE,
            "frame_size": [int(frame_size[0]), int(frame_size[1])],
        }
        with atomic.atomic_path(self.keypoints_path) as tmp, open(tmp, "w", encoding="utf-8") as out:
            out.write(json.dumps(header, indent=1)[:-2] + ',\n "frames": [\n')
            for number, entry in enumerate(entries):
                out.write((",\n" if number else "") + json.dumps(_keypoint_entry(entry), allow_nan=False))
            out.write("\n ]\n}\n")

    def read_keypoints(self) -> KeypointTrack:
        try:
            entries = json.loads(self.keypoints_path.read_text())["frames"]
            count = len(entries)
            landmarks, world = np.full((count, NUM_LANDMARKS, 4), np.nan), np.full((count, NUM_LANDMARKS, 3), np.nan)
            affines = np.zeros((count, 2, 3))
            found = np.array([entry["status"] == "ok" for entry in entries], bool)
            for row in np.flatnonzero(found):
                landmarks[row] = entries[row]["landmarks"]
                world[row] = entries[row]["world_landmarks"]
                affines[row] = entries[row]["crop_affine"]
            frames = np.array([entry["frame"] for entry in entries], np.int64)
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise HumanvidError(f"{self.root}: keypoints.json is missing or damaged ({err})") from None
        return KeypointTrack(frames, found, landmarks, world, affines)

    # -- crops and masks --------------------------------------------------------------------------------
    def write_crop(self, frame: int, rgb: np.ndarray) -> None:
        """(512, 512, 3) uint8 RGB."""
        atomic.write_image(self.crop_path(frame), rgb)

    def write_mask(self, frame: int, mask: np.ndarray) -> None:
        """(512, 512) uint8, 255 = person."""
        atomic.write_image(self.mask_path(frame), mask)

    def has_crop(self, frame: int) -> bool:
        return self.crop_path(frame).exists() and self.mask_path(frame).exists()

    def read_crop(self, frame: int) -> np.ndarray:
        """(512, 512, 3) uint8 RGB."""
        crop = cv2.imread(str(self.crop_path(frame)), cv2.IMREAD_COLOR)
        if crop is None:
            raise HumanvidError(f"{self.root}: the crop of frame {frame} is missing; rerun with --overwrite")
        return cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)

    def read_mask(self, frame: int) -> np.ndarray:
        """(512, 512) uint8, 255 = person."""
        mask = cv2.imread(str(self.mask_path(frame)), cv2.IMREAD_GRAYSCALE)
        if mask is None:
            raise HumanvidError(f"{self.root}: the mask of frame {frame} is missing; rerun with --overwrite")
        return mask

    # -- the folder as a whole --------------------------------------------------------------------------
    def remove_generated(self) -> None:
        """Delete what humanvid wrote here (for --overwrite); other files stay.

        Folders are moved aside at once and deleted on a background thread (which the
        process waits for before it exits), so a new run need not wait for them.
        """
        trash = None
        for name in GENERATED:
            path = self.root / name
            if path.is_dir():
                trash = trash or Path(tempfile.mkdtemp(prefix=TRASH_PREFIX, dir=self.root))
                path.rename(trash / name)
            elif path.exists():
                path.unlink()
        for old in self.root.glob(f"{TRASH_PREFIX}*"):  # with what a killed run left
            threading.Thread(target=shutil.rmtree, args=(old,), kwargs={"ignore_errors": True}).start()

    def clear_work(self) -> None:
        """Remove preprocessing's intermediate files once its outputs are complete."""
        shutil.rmtree(self.work, ignore_errors=True)


def _keypoint_entry(entry: KeypointFrame) -> dict:
    out = {"frame": int(entry.frame), "status": entry.status}
    if entry.status == "ok":
        out.update({
            "landmarks": _rounded(entry.landmarks, 3),
            "world_landmarks": _rounded(entry.world_landmarks, 5),
            "landmarks_smoothed": _rounded(entry.smoothed, 3),
            "landmarks_crop": _rounded(entry.crop_landmarks, 3),
            "crop_box": {"center": _rounded(entry.crop_center, 3), "side": round(float(entry.crop_side), 3)},
            "crop_affine": _rounded(entry.crop_affine, 8),
        })
    return out


def _rounded(array: np.ndarray, digits: int) -> list:
    return np.round(np.asarray(array, dtype=np.float64), digits).tolist()
