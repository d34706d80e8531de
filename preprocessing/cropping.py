"""Crops on disk: smoothed boxes over the track, cut from the frames, during or after detection."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from humanvid import atomic
from humanvid.errors import HumanvidError
from humanvid.exchange.run_folder import RunFolder
from humanvid.constants import CROP_SIZE, PERSON_FILL
from preprocessing.crop import crop_affine, scaled_affine, warp
from preprocessing.detections import Detections, window_file
from preprocessing.progress import Progress
from preprocessing.smoothing import (
    second_difference_std,
    smooth_boxes,
    smooth_landmarks,
)
from preprocessing.video import FrameSelection, MediaInfo, iter_frames, prefetched


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


def plan_crops(detections: Detections, rate: float) -> CropTrack:
    """Smooth landmarks and crop boxes over the whole track (frames without a person are bridged)."""
    found = detections.found
    smoothed = smooth_landmarks(detections.landmarks[..., :2], found, rate)
    centers, sides = smooth_boxes(detections.extents, found, rate, fill=PERSON_FILL)
    affines = np.stack([crop_affine(c, s) for c, s in zip(centers, sides)]) if len(sides) else np.zeros((0, 2, 3))
    return CropTrack(smoothed, centers, sides, affines)


def write_crops(info: MediaInfo, selection: FrameSelection, detections: Detections, track: CropTrack,
                run: RunFolder, progress: Progress) -> None:
    """Pass 2: cut `crops/` and `masks/` for frames with a person, skipping finished ones."""
    run.crops.mkdir(exist_ok=True)
    run.masks.mkdir(exist_ok=True)
    row_of = {int(index): row for row, index in enumerate(detections.indices)}
    todo = {int(detections.indices[row]) for row in np.flatnonzero(detections.found)
            if not run.has_crop(detections.indices[row])}
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
            pending.append(writer.submit(cut_from_file, frame.image, window_file(run.work, frame.index),
                                         detections.mask_windows[row], track.affines[row],
                                         run.crop_path(frame.index), run.mask_path(frame.index)))
            while len(pending) > 4:  # bounded: memory must not grow with video length
                pending.pop(0).result()
                progress.advance()
        for job in pending:
            job.result()
            progress.advance()


def cut_from_file(image: np.ndarray, window_path: Path, origin: np.ndarray, affine: np.ndarray,
                  crop_path: Path, mask_path: Path) -> None:
    """cut_and_write with the mask window the detection pass left in `window_path`, removed afterwards."""
    try:
        mask = np.load(window_path)
    except (OSError, ValueError):
        raise HumanvidError(f"intermediate mask {window_path} is missing; rerun with --overwrite") from None
    cut_and_write(image, mask, origin, affine, crop_path, mask_path)
    window_path.unlink(missing_ok=True)  # keeps the work folder small however long the video


def cut_and_write(image: np.ndarray, mask: np.ndarray, origin: np.ndarray, affine: np.ndarray,
                  crop_path: Path, mask_path: Path) -> None:
    """Cut and write one frame's crop and mask; the mask window's `origin` is x0, y0 [mask px], mask scale."""
    x0, y0, scale = origin
    window_affine = scaled_affine(affine, scale)
    window_affine[:, 2] += window_affine[:, :2] @ np.array([x0, y0])
    atomic.write_image(mask_path, warp(mask, window_affine))
    atomic.write_image(crop_path, warp(image, affine))
