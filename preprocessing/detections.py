"""Detection pass: the followed person's landmarks, box and mask in every selected frame."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from humanvid import atomic
from humanvid.errors import HumanvidError
from humanvid.exchange.run_folder import frame_name
from preprocessing.crop import person_extent
from humanvid.landmarks import NUM_LANDMARKS
from preprocessing.person import PersonDetector
from preprocessing.pose import Detection
from preprocessing.progress import Progress
from preprocessing.video import FrameSelection, MediaInfo, frames_at, iter_frames, prefetched
from preprocessing.video_choice import sample_frames

NO_PERSON = "no_person"


def window_file(work: Path, index: int) -> Path:
    """Where the detection pass keeps frame `index`'s mask window until its crop is cut (raw uint8)."""
    return work / "masks" / f"{frame_name(index)}.npy"


def write_window(path: Path, window: np.ndarray) -> None:
    with atomic.atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, window)


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
    person: dict = field(default_factory=dict)  # how the followed person was found (person_record); {} if never

    @property
    def found(self) -> np.ndarray:
        return np.array([s == "ok" for s in self.status], dtype=bool)

    def save(self, path: Path, fingerprint: str) -> None:
        atomic.write_npz(
            path, indices=self.indices, status=np.array(self.status, dtype=str), landmarks=self.landmarks,
            world_landmarks=self.world_landmarks, extents=self.extents, mask_windows=self.mask_windows,
            decoded=np.array(self.decoded), person=np.array(json.dumps(self.person)), fingerprint=np.array(fingerprint),
        )

    @classmethod
    def load(cls, path: Path, fingerprint: str) -> "Detections | None":
        """The saved detections, or None if absent, unreadable or made with other settings."""
        try:
            with np.load(path) as data:
                if str(data["fingerprint"]) != fingerprint:
                    return None
                return cls(data["indices"], [str(s) for s in data["status"]], data["landmarks"],
                           data["world_landmarks"], data["extents"], data["mask_windows"], int(data["decoded"]),
                           json.loads(str(data["person"])))
        except (OSError, KeyError, ValueError):
            return None


@dataclass
class DetectedFrame:
    """One frame of the detection pass, handed on at once so crops can be cut while it goes on."""

    index: int  # source frame index
    image: np.ndarray | None  # H×W×3 RGB; None where the frame could not be decoded
    extent: np.ndarray  # (4,) person box x0, y0, x1, y1 [px]; NaN where no person
    window_origin: np.ndarray  # (3,) mask window x0, y0 [mask px], mask px per frame px; NaN where no person
    window: np.ndarray | None  # (h, w) uint8 mask around the person; None where no person

    @property
    def found(self) -> bool:
        return self.window is not None


def detect(info: MediaInfo, selection: FrameSelection, progress: Progress,
           on_frame: Callable[[DetectedFrame], None] = lambda _: None, quiet: bool = True,
           person: int | None = None) -> Detections:
    """Follow the person (None: the main one, of a video over frames sampled from all of it; N: person N, see
    PersonDetector) through the selected frames; on_frame gets each frame's result as it comes."""
    progress.start("detect", len(selection.indices(info.frame_count)))
    indices, status, landmarks, world, extents, windows = [], [], [], [], [], []
    record: dict = {}
    with PersonDetector(video_mode=info.kind != "image", quiet=quiet, person=person) as detector:
        if info.kind != "image" and person is None:
            detector.choose_over(frames_at(info, sample_frames(selection.indices(info.frame_count))))
        for frame in prefetched(iter_frames(info, selection)):
            indices.append(frame.index)
            detection = None if frame.image is None else detector.detect(frame.image, frame.index)
            if detection is not None and not record:
                record = person_record(detector, frame.index)
            window = None
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
            on_frame(DetectedFrame(frame.index, frame.image, extents[-1], windows[-1], window))
            progress.advance()
    return Detections(np.array(indices, dtype=np.int64), status, np.array(landmarks).reshape(-1, NUM_LANDMARKS, 4),
                      np.array(world).reshape(-1, NUM_LANDMARKS, 3), np.array(extents).reshape(-1, 4),
                      np.array(windows, dtype=np.float64).reshape(-1, 3), len(indices), record)


def person_record(detector: PersonDetector, index: int) -> dict:
    """run.json's account of how the followed person was found: the source frame `index` where the track
    started, "full frame" / "full frame, mirrored" / "regions" (the region search), how many people the search
    told apart in that frame, and who was chosen: for a video's main person chosen over it, the frames sampled,
    those where they were the main person and those where they were seen (preprocessing/video_choice.py)."""
    record: dict = {"frame": int(index)}
    if detector.start is not None:
        record.update(found_by=detector.start.found_by, people=detector.start.people)
    if detector.choice is not None:
        record.update(detector.choice.record())
    elif detector.person is not None:
        record["chosen"] = f"person {detector.person} of the first frame with people"
    else:
        record["chosen"] = "main person of the " + ("frame" if not detector.video_mode else "first frame with people")
    return record


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
