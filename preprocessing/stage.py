"""The preprocessing stage: frames → landmarks, masks and smoothed 512×512 crops on disk.

Crops are smoothed with the whole track in view, yet memory stays flat however
long the video is:

1. detect (detections.py): decode frame by frame, MediaPipe follows the person;
   landmarks go to `.work/detections.npz`. Meanwhile a second thread cuts the
   crops of frames whose smoothed box later frames can no longer change
   (live_cropper.LiveCropper), a couple of seconds behind, from the frames and
   person masks the detection pass hands it; the masks of frames not cut yet
   when detection ends go to `.work/masks/`.
2. finish: smooth landmarks over the whole track, write `keypoints.json` and
   `camera.json` while the crop thread cuts the last seconds, then cut whatever
   crops are still missing (everything, after a resumed run).

Resume: a finished detection pass is reused; crops already on disk are kept.
MediaPipe tracks from frame to frame, so an interrupted detection pass restarts
from the first frame — that is what makes a resumed run byte-identical to an
uninterrupted one.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from humanvid import atomic
from humanvid.camera import Camera
from preprocessing.crop import CROP_SIZE, to_crop
from preprocessing.cropping import CropTrack, plan_crops, write_crops
from preprocessing.detections import Detections, check_detections, detect
from preprocessing.live_cropper import LiveCropper
from preprocessing.progress import Progress, SilentProgress
from preprocessing.video import FrameSelection, MediaInfo

WORK_DIR = ".work"


@dataclass
class PreprocessResult:
    detections: Detections
    track: CropTrack
    timings: dict[str, float] = field(default_factory=dict)
    jitter_px: float = 0.0


def keypoint_frames(detections: Detections, track: CropTrack) -> Iterator[dict]:
    """keypoints.json's per-frame entries: raw and smoothed landmarks and the crop, one at a time."""
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
        yield entry


def write_keypoints(path: Path, info: MediaInfo, detections: Detections, track: CropTrack) -> None:
    """Write keypoints.json frame by frame (atomically), so memory does not grow with the video."""
    header = {
        "format": "humanvid-keypoints-1",
        "landmark_order": "MediaPipe Pose 33",
        "landmarks": "x, y [full-frame px], z [px, relative to the hip centre, MediaPipe scale], visibility",
        "world_landmarks": "x, y, z [m] about the hip centre, MediaPipe world frame (y down)",
        "landmarks_smoothed": "x, y [full-frame px], zero-lag One-Euro smoothing",
        "crop_affine": f"2x3 matrix A: [u, v] = A @ [x, y, 1] maps full-frame px to {CROP_SIZE}x{CROP_SIZE} crop px",
        "crop_size": CROP_SIZE,
        "frame_size": [info.width, info.height],
    }
    with atomic.atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        out.write(json.dumps(header, indent=1)[:-2] + ',\n "frames": [\n')
        for number, entry in enumerate(keypoint_frames(detections, track)):
            out.write((",\n" if number else "") + json.dumps(entry, allow_nan=False))
        out.write("\n ]\n}\n")


def _rounded(array: np.ndarray, digits: int) -> list:
    return np.round(np.asarray(array, dtype=np.float64), digits).tolist()


def _detect(info: MediaInfo, selection: FrameSelection, out_dir: Path, work: Path, progress: Progress,
            quiet: bool) -> tuple[Detections, LiveCropper]:
    """The detection pass, with crops cut alongside on a second thread (still finishing when this returns)."""
    rate = info.fps or 30.0
    cropper = LiveCropper(info, selection, out_dir, work, rate).start()
    try:
        detections = detect(info, selection, progress, cropper.add, quiet)
    except BaseException:
        cropper.stop()
        raise
    cropper.close(plan_crops(detections, rate) if detections.found.any() else None)
    return detections, cropper


def run_preprocess(info: MediaInfo, selection: FrameSelection, out_dir: Path, camera: Camera,
                   fingerprint: str, progress: Progress = SilentProgress(), quiet: bool = True) -> PreprocessResult:
    """Run (or resume) the whole preprocessing stage for one input into `out_dir`."""
    work = out_dir / WORK_DIR
    work.mkdir(parents=True, exist_ok=True)
    timings = {}
    start = time.perf_counter()
    detections, cropper = Detections.load(work / "detections.npz", fingerprint), None
    if detections is None:
        shutil.rmtree(work / "masks", ignore_errors=True)
        detections, cropper = _detect(info, selection, out_dir, work, progress, quiet)
    try:
        if cropper is not None:
            check_detections(info, selection, detections, progress)
            cropper.save_windows()  # with the detections saved, a resumed run cuts the crops still missing
            detections.save(work / "detections.npz", fingerprint)
        timings["detect_s"] = time.perf_counter() - start
        start = time.perf_counter()
        track = cropper.final if cropper is not None else plan_crops(detections, info.fps or 30.0)
        atomic.write_json(out_dir / "camera.json", camera.as_dict())
        write_keypoints(out_dir / "keypoints.json", info, detections, track)
    except BaseException:
        if cropper is not None:
            cropper.stop()
        raise
    if cropper is not None:
        cropper.join()  # the last crops, cut while the files above were written
    write_crops(info, selection, detections, track, out_dir, work, progress)
    timings["crop_s"] = time.perf_counter() - start
    return PreprocessResult(detections, track, timings, track.jitter(detections.found))


def clear_work(out_dir: Path) -> None:
    """Remove the intermediate files once the stage's outputs are complete."""
    shutil.rmtree(out_dir / WORK_DIR, ignore_errors=True)
