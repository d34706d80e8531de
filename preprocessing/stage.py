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

import shutil
import time
from dataclasses import dataclass, field
from typing import Iterator

from humanvid.camera import Camera
from humanvid.exchange.run_folder import KeypointFrame, RunFolder
from preprocessing.crop import to_crop
from preprocessing.cropping import CropTrack, plan_crops, write_crops
from preprocessing.detections import Detections, check_detections, detect
from preprocessing.live_cropper import LiveCropper
from preprocessing.progress import Progress, SilentProgress
from preprocessing.video import FrameSelection, MediaInfo


@dataclass
class PreprocessResult:
    detections: Detections
    track: CropTrack
    timings: dict[str, float] = field(default_factory=dict)
    jitter_px: float = 0.0


def keypoint_frames(detections: Detections, track: CropTrack) -> Iterator[KeypointFrame]:
    """keypoints.json's per-frame entries: raw and smoothed landmarks and the crop, one at a time."""
    for row, index in enumerate(detections.indices):
        if detections.status[row] != "ok":
            yield KeypointFrame(int(index), detections.status[row])
            continue
        affine = track.affines[row]
        yield KeypointFrame(int(index), "ok", detections.landmarks[row], detections.world_landmarks[row],
                            track.landmarks[row], to_crop(track.landmarks[row], affine), track.centers[row],
                            float(track.sides[row]), affine)


def _detect(info: MediaInfo, selection: FrameSelection, run: RunFolder, progress: Progress,
            quiet: bool, person: int | None) -> tuple[Detections, LiveCropper]:
    """The detection pass, with crops cut alongside on a second thread (still finishing when this returns)."""
    rate = info.fps or 30.0
    cropper = LiveCropper(info, selection, run, rate).start()
    try:
        detections = detect(info, selection, progress, cropper.add, quiet, person)
    except BaseException:
        cropper.stop()
        raise
    cropper.close(plan_crops(detections, rate) if detections.found.any() else None)
    return detections, cropper


def run_preprocess(info: MediaInfo, selection: FrameSelection, run: RunFolder, camera: Camera,
                   fingerprint: str, progress: Progress = SilentProgress(), quiet: bool = True,
                   person: int | None = None) -> PreprocessResult:
    """Run (or resume) the whole preprocessing stage for one input into the run folder, following the main
    person (`person` None) or person N of the first frame with people (preprocessing.person.PersonDetector)."""
    work = run.work
    work.mkdir(parents=True, exist_ok=True)
    timings = {}
    start = time.perf_counter()
    detections, cropper = Detections.load(work / "detections.npz", fingerprint), None
    if detections is None:
        shutil.rmtree(work / "masks", ignore_errors=True)
        detections, cropper = _detect(info, selection, run, progress, quiet, person)
    try:
        if cropper is not None:
            check_detections(info, selection, detections, progress)
            cropper.save_windows()  # with the detections saved, a resumed run cuts the crops still missing
            detections.save(work / "detections.npz", fingerprint)
        timings["detect_s"] = time.perf_counter() - start
        start = time.perf_counter()
        track = cropper.final if cropper is not None else plan_crops(detections, info.fps or 30.0)
        run.write_camera(camera)
        run.write_keypoints((info.width, info.height), keypoint_frames(detections, track))
    except BaseException:
        if cropper is not None:
            cropper.stop()
        raise
    if cropper is not None:
        cropper.join()  # the last crops, cut while the files above were written
    write_crops(info, selection, detections, track, run, progress)
    timings["crop_s"] = time.perf_counter() - start
    return PreprocessResult(detections, track, timings, track.jitter(detections.found))
