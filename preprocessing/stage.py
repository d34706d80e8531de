"""The preprocessing stage: frames → landmarks, masks and smoothed 512×512 crops on disk.

Two passes over the input, so crops can be smoothed with the whole track known
while memory stays flat however long the video is:

1. detect: decode frame by frame, MediaPipe follows the person; landmarks go to
   `.work/detections.npz`, the mask around the person in each frame to `.work/masks/`.
2. crop: smooth landmarks and crop boxes over time, write `keypoints.json` and
   `camera.json`, decode again and cut `crops/` and `masks/`.

Resume: a finished detection pass is reused; crops already on disk are kept.
MediaPipe tracks from frame to frame, so an interrupted detection pass restarts
from the first frame — that is what makes a resumed run byte-identical to an
uninterrupted one.
"""

from __future__ import annotations

import math
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from humanvid import atomic
from humanvid.errors import HumanvidError
from preprocessing.crop import CROP_SIZE, PERSON_FILL, crop_affine, person_extent, scaled_affine, to_crop, warp
from preprocessing.person import NUM_LANDMARKS, Detection, PersonDetector
from preprocessing.smoothing import (box_settled, box_support, second_difference_std, smooth_boxes,
                                     smooth_landmarks)
from preprocessing.video import FrameSelection, MediaInfo, iter_frames, prefetched

DEFAULT_VERTICAL_FOV_DEG = 55.0
WORK_DIR = ".work"
NO_PERSON = "no_person"


class Progress(Protocol):
    """What the stage tells the user interface about its progress."""

    def start(self, phase: str, total: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...

    def warn(self, message: str) -> None: ...


class SilentProgress:
    def start(self, phase: str, total: int) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass

    def warn(self, message: str) -> None:
        pass


@dataclass(frozen=True)
class Camera:
    """Full-frame pinhole intrinsics [px]; pixel centres at integer coordinates."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def for_frame(cls, width: int, height: int, focal: float | None = None) -> "Camera":
        if focal is None:
            focal = 0.5 * height / math.tan(math.radians(DEFAULT_VERTICAL_FOV_DEG) / 2.0)
        return cls(float(focal), float(focal), (width - 1) / 2.0, (height - 1) / 2.0, width, height)

    def as_dict(self) -> dict:
        return {
            "fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy,
            "width": self.width, "height": self.height,
            "convention": "OpenGL camera frame: x right, y up, camera at the origin looking down -z; "
                          "pixel centres at integer coordinates, origin top-left",
        }


@dataclass
class Detections:
    """Everything the detection pass found, one row per selected frame."""

    indices: np.ndarray  # (T,) source frame indices
    status: list[str]  # (T,) "ok" | "no_person" | "failed: reason"
    landmarks: np.ndarray  # (T, 33, 4) x, y, z [px], visibility; NaN where no person
    world_landmarks: np.ndarray  # (T, 33, 3) metres about the hips; NaN where no person
    extents: np.ndarray  # (T, 4) person box x0, y0, x1, y1 [px]; NaN where no person
    mask_windows: np.ndarray  # (T, 3) stored mask window: x0, y0 [mask px], mask px per frame px
    decoded: int  # frames that decoded

    @property
    def found(self) -> np.ndarray:
        return np.array([s == "ok" for s in self.status], dtype=bool)

    def save(self, path: Path, fingerprint: str) -> None:
        atomic.write_npz(
            path, indices=self.indices, status=np.array(self.status, dtype=str), landmarks=self.landmarks,
            world_landmarks=self.world_landmarks, extents=self.extents, mask_windows=self.mask_windows,
            decoded=np.array(self.decoded), fingerprint=np.array(fingerprint),
        )

    @classmethod
    def load(cls, path: Path, fingerprint: str) -> "Detections | None":
        """The saved detections, or None if absent, unreadable or made with other settings."""
        try:
            with np.load(path) as data:
                if str(data["fingerprint"]) != fingerprint:
                    return None
                return cls(data["indices"], [str(s) for s in data["status"]], data["landmarks"],
                           data["world_landmarks"], data["extents"], data["mask_windows"], int(data["decoded"]))
        except (OSError, KeyError, ValueError):
            return None


@dataclass
class CropTrack:
    """Smoothed landmarks and crop boxes for every selected frame."""

    landmarks: np.ndarray  # (T, 33, 2) smoothed x, y [px]
    centers: np.ndarray  # (T, 2) crop centres [px]
    sides: np.ndarray  # (T,) crop sides [px]
    affines: np.ndarray  # (T, 2, 3) full frame → crop pixels

    def jitter(self, found: np.ndarray) -> float:
        """Std of the second difference of the crop centre, in crop pixels, over frames with a person."""
        runs = np.split(np.arange(len(found)), np.flatnonzero(np.diff(found.astype(int))) + 1)
        seconds = [np.diff(self.centers[r] * (CROP_SIZE / self.sides[r])[:, None], n=2, axis=0)
                   for r in runs if found[r[0]] and len(r) >= 3]
        return second_difference_std(np.concatenate(seconds)) if seconds else 0.0


@dataclass
class PreprocessResult:
    detections: Detections
    track: CropTrack
    timings: dict[str, float] = field(default_factory=dict)
    jitter_px: float = 0.0


def frame_name(index: int) -> str:
    return f"{index:06d}"


class _SharedTrack:
    """Person boxes found so far, written by the detection loop and read by the crop thread."""

    def __init__(self, rate: float):
        self.rate = rate
        self.support = box_support(rate)
        self.extents: list[np.ndarray] = []
        self.found: list[bool] = []
        self.windows: list[np.ndarray] = []
        self.final: CropTrack | None = None
        self.stopped = False
        self.changed = threading.Condition()

    def add(self, extent: np.ndarray, found: bool, window: np.ndarray) -> None:
        with self.changed:
            self.extents.append(extent)
            self.found.append(found)
            self.windows.append(window)
            self.changed.notify_all()

    def finish(self, final: CropTrack | None) -> None:
        with self.changed:
            self.final, self.stopped = final, True
            self.changed.notify_all()

    def affine_when_settled(self, row: int) -> np.ndarray | None:
        """Block until the crop of `row` is final; its affine, or None if it has no person or we stop."""
        with self.changed:
            while True:
                if self.stopped:
                    if self.final is None or row >= len(self.found) or not self.found[row]:
                        return None
                    return self.final.affines[row]
                start = box_settled(np.array(self.found), row, self.support) if row < len(self.found) else None
                if start is not None:
                    if not self.found[row]:
                        return None
                    extents = np.array(self.extents[start:])
                    valid = np.array(self.found[start:])
                    break
                self.changed.wait()
        centers, sides = smooth_boxes(extents, valid, self.rate, fill=PERSON_FILL)
        return crop_affine(centers[row - start], sides[row - start])


def _cut_while_detecting(info: MediaInfo, selection: FrameSelection, shared: _SharedTrack, out_dir: Path,
                         work: Path, errors: list) -> None:
    """Crop thread: follows the detection loop a few seconds behind, with its own decoder.

    A frame is cut as soon as no later detection can change its smoothed box,
    so the crop is exactly the one a separate pass over the finished track
    would cut, and the two CPU cores are both busy.
    """
    try:
        for row, frame in enumerate(iter_frames(info, selection)):
            affine = shared.affine_when_settled(row)
            if shared.stopped and shared.final is None:
                return
            if affine is None or frame.image is None:
                continue
            name = f"{frame_name(frame.index)}.png"
            if not ((out_dir / "crops" / name).exists() and (out_dir / "masks" / name).exists()):
                _cut_and_write(frame.image, work / "masks" / name, shared.windows[row], affine,
                               out_dir / "crops" / name, out_dir / "masks" / name)
    except BaseException as err:  # handed to the detection loop
        errors.append(err)


def detect(info: MediaInfo, selection: FrameSelection, out_dir: Path, work: Path, progress: Progress,
           quiet: bool = True) -> Detections:
    """Pass 1: follow the person through the selected frames; masks go to `work/masks/`.

    A crop thread cuts the crops of frames whose smoothed box is already final
    while detection goes on.
    """
    expected = len(selection.indices(info.frame_count))
    progress.start("detect", expected)
    indices, status, landmarks, world, extents, windows = [], [], [], [], [], []
    for sub in (work / "masks", out_dir / "crops", out_dir / "masks"):
        sub.mkdir(parents=True, exist_ok=True)
    rate = info.fps or 30.0
    shared, errors = _SharedTrack(rate), []
    cropper = threading.Thread(target=_cut_while_detecting,
                               args=(info, selection, shared, out_dir, work, errors), daemon=True)
    cropper.start()
    detections = None
    try:
        with PersonDetector(video_mode=info.kind != "image", quiet=quiet) as detector:
            for frame in prefetched(iter_frames(info, selection)):
                if errors:
                    raise errors[0]
                indices.append(frame.index)
                detection = None if frame.image is None else detector.detect(frame.image)
                if detection is None:
                    status.append(NO_PERSON if frame.image is not None else f"failed: {frame.error}")
                    landmarks.append(np.full((NUM_LANDMARKS, 4), np.nan))
                    world.append(np.full((NUM_LANDMARKS, 3), np.nan))
                    extents.append(np.full(4, np.nan))
                    windows.append(np.full(3, np.nan))
                else:
                    status.append("ok")
                    landmarks.append(detection.landmarks)
                    world.append(detection.world_landmarks)
                    extents.append(person_extent(detection))
                    window, origin = mask_window(detection, extents[-1])
                    windows.append(np.array([*origin, detection.mask_scale]))
                    atomic.write_image(work / "masks" / f"{frame_name(frame.index)}.png", window)
                shared.add(extents[-1], status[-1] == "ok", windows[-1])
                progress.advance()
        detections = Detections(np.array(indices, dtype=np.int64), status,
                                np.array(landmarks).reshape(-1, NUM_LANDMARKS, 4),
                                np.array(world).reshape(-1, NUM_LANDMARKS, 3), np.array(extents).reshape(-1, 4),
                                np.array(windows, dtype=np.float64).reshape(-1, 3), len(indices))
    finally:
        final = plan_crops(detections, rate) if detections is not None and detections.found.any() else None
        shared.finish(final)
        cropper.join()
    if errors:
        raise errors[0]
    return detections


def plan_crops(detections: Detections, rate: float) -> CropTrack:
    """Smooth landmarks and crop boxes over the whole track (frames without a person are bridged)."""
    found = detections.found
    smoothed = smooth_landmarks(detections.landmarks[..., :2], found, rate)
    centers, sides = smooth_boxes(detections.extents, found, rate, fill=PERSON_FILL)
    affines = np.stack([crop_affine(c, s) for c, s in zip(centers, sides)]) if len(sides) else np.zeros((0, 2, 3))
    return CropTrack(smoothed, centers, sides, affines)


def write_crops(info: MediaInfo, selection: FrameSelection, detections: Detections, track: CropTrack,
                out_dir: Path, work: Path, progress: Progress) -> None:
    """Pass 2: cut `crops/` and `masks/` for frames with a person, skipping finished ones."""
    crops, masks = out_dir / "crops", out_dir / "masks"
    crops.mkdir(exist_ok=True)
    masks.mkdir(exist_ok=True)
    row_of = {int(index): row for row, index in enumerate(detections.indices)}
    todo = {int(detections.indices[row]) for row in np.flatnonzero(detections.found)
            if not ((crops / f"{frame_name(detections.indices[row])}.png").exists()
                    and (masks / f"{frame_name(detections.indices[row])}.png").exists())}
    progress.start("crop", int(detections.found.sum()))
    progress.advance(int(detections.found.sum()) - len(todo))
    if not todo:
        return
    last = max(todo)
    cut_selection = FrameSelection(selection.start, min(last + 1, selection.end or last + 1),
                                   selection.every, selection.max_frames)
    with ThreadPoolExecutor(max_workers=2) as writer:
        pending = []
        for frame in prefetched(iter_frames(info, cut_selection)):
            if frame.index not in todo or frame.image is None:
                continue
            row = row_of[frame.index]
            name = f"{frame_name(frame.index)}.png"
            pending.append(writer.submit(_cut_and_write, frame.image, work / "masks" / name,
                                         detections.mask_windows[row], track.affines[row],
                                         crops / name, masks / name))
            while len(pending) > 4:  # bounded: memory must not grow with video length
                pending.pop(0).result()
                progress.advance()
        for job in pending:
            job.result()
            progress.advance()


def mask_window(detection: Detection, extent: np.ndarray, margin: float = 0.3) -> tuple[np.ndarray, tuple[int, int]]:
    """The part of the detection's mask around the person: (h, w) uint8 and its (x0, y0) in mask pixels.

    Storing only this window keeps the detection pass cheap, and drops mask
    pixels of other people far from the one followed.
    """
    size = (extent[2:] - extent[:2]).max()
    box = np.concatenate([extent[:2] - margin * size, extent[2:] + margin * size]) * detection.mask_scale
    height, width = detection.mask.shape
    x0, y0 = int(max(np.floor(box[0]), 0)), int(max(np.floor(box[1]), 0))
    x1, y1 = int(min(np.ceil(box[2]) + 1, width)), int(min(np.ceil(box[3]) + 1, height))
    return np.ascontiguousarray(detection.mask[y0:y1, x0:x1]), (x0, y0)


def _cut_and_write(image: np.ndarray, window_path: Path, window: np.ndarray, affine: np.ndarray,
                   crop_path: Path, mask_path: Path) -> None:
    mask = cv2.imread(str(window_path), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise HumanvidError(f"intermediate mask {window_path} is missing; rerun with --overwrite")
    x0, y0, scale = window
    window_affine = scaled_affine(affine, scale)
    window_affine[:, 2] += window_affine[:, :2] @ np.array([x0, y0])
    atomic.write_image(mask_path, warp(mask, window_affine))
    atomic.write_image(crop_path, warp(image, affine))


def keypoints_document(info: MediaInfo, detections: Detections, track: CropTrack) -> dict:
    """The content of keypoints.json: per frame raw and smoothed landmarks and the crop."""
    frames = []
    for row, index in enumerate(detections.indices):
        entry = {"frame": int(index), "status": detections.status[row]}
        if detections.status[row] == "ok":
            affine = track.affines[row]
            entry.update({
                "landmarks": _rounded(detections.landmarks[row], 3),
                "world_landmarks": _rounded(detections.world_landmarks[row], 5),
                "landmarks_smoothed": _rounded(track.landmarks[row], 3),
                "landmarks_crop": _rounded(to_crop(track.landmarks[row], affine), 3),
                "crop_box": {"center": _rounded(track.centers[row], 3), "side": round(float(track.sides[row]), 3)},
                "crop_affine": _rounded(affine, 8),
            })
        frames.append(entry)
    return {
        "format": "humanvid-keypoints-1",
        "landmark_order": "MediaPipe Pose 33",
        "landmarks": "x, y [full-frame px], z [px, relative to the hip centre, MediaPipe scale], visibility",
        "world_landmarks": "x, y, z [m] about the hip centre, MediaPipe world frame (y down)",
        "landmarks_smoothed": "x, y [full-frame px], zero-lag One-Euro smoothing",
        "crop_affine": f"2x3 matrix A: [u, v] = A @ [x, y, 1] maps full-frame px to {CROP_SIZE}x{CROP_SIZE} crop px",
        "crop_size": CROP_SIZE,
        "frame_size": [info.width, info.height],
        "frames": frames,
    }


def _rounded(array: np.ndarray, digits: int) -> list:
    return np.round(np.asarray(array, dtype=np.float64), digits).tolist()


def run_preprocess(info: MediaInfo, selection: FrameSelection, out_dir: Path, camera: Camera,
                   fingerprint: str, progress: Progress = SilentProgress(), quiet: bool = True) -> PreprocessResult:
    """Run (or resume) the whole preprocessing stage for one input into `out_dir`."""
    work = out_dir / WORK_DIR
    work.mkdir(parents=True, exist_ok=True)
    timings = {}
    start = time.perf_counter()
    detections = Detections.load(work / "detections.npz", fingerprint)
    if detections is None:
        shutil.rmtree(work / "masks", ignore_errors=True)
        detections = detect(info, selection, out_dir, work, progress, quiet)
        check_detections(info, selection, detections, progress)
        detections.save(work / "detections.npz", fingerprint)
    timings["detect_s"] = time.perf_counter() - start

    start = time.perf_counter()
    track = plan_crops(detections, info.fps or 30.0)
    atomic.write_json(out_dir / "camera.json", camera.as_dict())
    atomic.write_json(out_dir / "keypoints.json", keypoints_document(info, detections, track))
    write_crops(info, selection, detections, track, out_dir, work, progress)
    timings["crop_s"] = time.perf_counter() - start
    return PreprocessResult(detections, track, timings, track.jitter(detections.found))


def check_detections(info: MediaInfo, selection: FrameSelection, detections: Detections, progress: Progress) -> None:
    """Turn 'nothing usable' into one clear error; warn about truncated videos."""
    if detections.decoded == 0:
        if selection.start > 0:
            raise HumanvidError(f"{info.path}: --start {selection.start} is past the last frame "
                                f"(the input has {info.frame_count} frame(s))")
        raise HumanvidError(f"{info.path}: no frames could be decoded")
    expected = len(selection.indices(info.frame_count))
    if info.kind == "video" and detections.decoded < expected:
        progress.warn(f"{Path(info.path).name}: video is truncated or damaged; "
                      f"decoded {detections.decoded} of {expected} frames, keeping those")
    if not detections.found.any():
        failed = [s for s in detections.status if s.startswith("failed")]
        if failed and len(failed) == len(detections.status):
            raise HumanvidError(f"{info.path}: no frame could be read ({failed[0][8:]})")
        raise HumanvidError(f"{info.path}: no person found in any of {detections.decoded} frame(s)")


def clear_work(out_dir: Path) -> None:
    """Remove the intermediate files once the stage's outputs are complete."""
    shutil.rmtree(out_dir / WORK_DIR, ignore_errors=True)
