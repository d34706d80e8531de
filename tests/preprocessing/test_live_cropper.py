"""Crops cut during detection are byte-identical to a pass over the finished track, however they are fed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from humanvid.exchange.run_folder import RunFolder
from preprocessing.cropping import plan_crops, write_crops
from preprocessing.detections import (
    DetectedFrame,
    Detections,
    window_file,
    write_window,
)
from preprocessing.live_cropper import LiveCropper
from preprocessing.progress import SilentProgress
from preprocessing.video import FrameSelection, iter_frames, probe

FRAMES, SIZE, RATE = 48, (96, 128), 10.0


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A small video, and a made-up track: a box wandering through it, with no person in frames 20–27."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), RATE, SIZE[::-1])
    rng = np.random.default_rng(0)
    for _ in range(FRAMES):
        writer.write(rng.integers(0, 255, (*SIZE, 3), np.uint8))
    writer.release()
    frames = []
    for row in range(FRAMES):
        found = not 20 <= row < 28
        x, y = 40 + 10 * np.sin(row / 5), 30 + row / 4
        extent = np.array([x, y, x + 30 + row % 3, y + 50]) if found else np.full(4, np.nan)
        origin = np.array([int(x) - 5, int(y) - 5, 0.5]) if found else np.full(3, np.nan)
        window = rng.integers(0, 255, (30, 25), np.uint8) if found else None
        frames.append(DetectedFrame(row, None, extent, origin, window))
    return probe(path), frames


def detections_of(frames: list[DetectedFrame]) -> Detections:
    found = np.array([f.found for f in frames])
    landmarks = np.where(found[:, None, None], np.arange(33.0 * 4).reshape(33, 4), np.nan)
    return Detections(np.arange(len(frames)), ["ok" if f else "no_person" for f in found],
                      landmarks, np.zeros((len(frames), 33, 3)),
                      np.array([f.extent for f in frames]), np.array([f.window_origin for f in frames]), len(frames))


def cut_live(info, frames, out, shared: bool) -> None:
    detections = detections_of(frames)
    cropper = LiveCropper(info, FrameSelection(), RunFolder(out), RATE)
    if not shared:
        cropper.buffer = None
    cropper.start()
    for detected, frame in zip(frames, iter_frames(info)):
        cropper.add(DetectedFrame(detected.index, frame.image, detected.extent, detected.window_origin,
                                  detected.window))
    cropper.close(plan_crops(detections, RATE))
    cropper.join()


def written(out) -> dict[str, bytes]:
    return {f"{p.parent.name}/{p.name}": p.read_bytes() for p in sorted(out.glob("*/*.png"))}


def test_live_crops_match_the_crops_of_the_finished_track(clip, tmp_path):
    info, frames = clip
    detections = detections_of(frames)
    after = tmp_path / "after"
    for frame in frames:
        if frame.found:
            write_window(window_file(after / ".work", frame.index), frame.window)
    write_crops(info, FrameSelection(), detections, plan_crops(detections, RATE), RunFolder(after),
                SilentProgress())
    expected = written(after)
    assert len(expected) == 2 * sum(f.found for f in frames)
    for shared in (True, False):
        out = tmp_path / f"live_{shared}"
        cut_live(info, frames, out, shared)
        assert written(out) == expected


def test_frames_held_for_the_crop_thread_stay_bounded(clip, tmp_path):
    info, frames = clip
    cropper = LiveCropper(info, FrameSelection(), RunFolder(tmp_path), RATE)
    assert cropper.buffer is not None and cropper.buffer.capacity < FRAMES
    most = 0
    put = cropper.buffer.put

    def counted(row, image):
        nonlocal most
        put(row, image)
        most = max(most, len(cropper.buffer))

    cropper.buffer.put = counted
    cropper.start()
    for detected, frame in zip(frames, iter_frames(info)):
        cropper.add(DetectedFrame(detected.index, frame.image, detected.extent, detected.window_origin,
                                  detected.window))
    cropper.close(plan_crops(detections_of(frames), RATE))
    cropper.join()
    assert 0 < most <= cropper.buffer.capacity
    assert not cropper.masks  # every mask window was written and let go


def test_a_stopped_cropper_leaves_what_a_resumed_run_needs(clip, tmp_path):
    """Stopped part-way (as by a kill after the detections were saved): the rest is cut from the saved windows."""
    info, frames = clip
    detections = detections_of(frames)
    reference = tmp_path / "reference"
    cut_live(info, frames, reference, shared=True)
    out = tmp_path / "stopped"
    cropper = LiveCropper(info, FrameSelection(), RunFolder(out), RATE).start()
    for detected, frame in zip(frames, iter_frames(info)):
        cropper.add(DetectedFrame(detected.index, frame.image, detected.extent, detected.window_origin,
                                  detected.window))
    cropper.stop()
    cropper.save_windows()
    assert len(written(out)) < len(written(reference))  # the last second was not cut
    write_crops(info, FrameSelection(), detections, plan_crops(detections, RATE), RunFolder(out),
                SilentProgress())
    assert written(out) == written(reference)
