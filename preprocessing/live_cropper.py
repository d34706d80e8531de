"""Crops cut on a second thread while the detection pass runs, a couple of seconds behind it."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from humanvid.exchange.run_folder import RunFolder
from humanvid.constants import PERSON_FILL
from preprocessing.crop import crop_affine
from preprocessing.cropping import CropTrack, cut_and_write, cut_from_file
from preprocessing.detections import DetectedFrame, window_file, write_window
from preprocessing.frame_buffer import FrameBuffer
from preprocessing.smoothing import box_settled, box_support, smooth_boxes
from preprocessing.video import FrameSelection, MediaInfo, iter_frames

FRAME_SLACK = 16  # frames the detection pass may run ahead of the crops beyond the box support
END = object()  # no more frames to cut


class LiveCropper:
    """Cuts crops while detection runs: a frame as soon as no later detection can change its smoothed box.

    Each crop is therefore exactly the one a pass over the finished track would
    cut, and both CPU cores are busy. Feed it with add(). The detection pass
    hands over each frame with a person, image and mask window, through a
    bounded FrameBuffer; where that many frames would take too much memory, the
    mask windows go to `.work/masks/` and this thread decodes the input itself.
    close() hands over the final track (None: stop now); join() waits for the
    last crops, which two writers encode at once.
    """

    def __init__(self, info: MediaInfo, selection: FrameSelection, run: RunFolder, rate: float):
        self.info, self.selection, self.run, self.work = info, selection, run, run.work
        self.rate = rate
        self.support = box_support(rate)
        capacity = self.support + FRAME_SLACK  # > support + 1: the oldest frame held is always settled
        fits = info.kind == "video" and FrameBuffer.fits(capacity, (info.height, info.width, 3))
        self.buffer = FrameBuffer(capacity) if fits else None
        self.indices: list[int] = []
        self.extents: list[np.ndarray] = []
        self.found: list[bool] = []
        self.origins: list[np.ndarray] = []
        self.masks: dict[int, np.ndarray] = {}  # mask windows held in memory until their crop is written
        self.final: CropTrack | None = None
        self.stopped = False
        self.error: BaseException | None = None
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> LiveCropper:
        for folder in (self.run.crops, self.run.masks, self.work / "masks"):
            folder.mkdir(parents=True, exist_ok=True)
        self.thread.start()
        return self

    def add(self, frame: DetectedFrame) -> None:
        """Record the next frame of the detection pass (waits while the buffer of frames is full)."""
        if self.error is not None:
            raise self.error
        with self.changed:
            row = len(self.found)
            self.indices.append(frame.index)
            self.extents.append(frame.extent)
            self.found.append(frame.found)
            self.origins.append(frame.window_origin)
            if frame.found and self.buffer is not None:
                self.masks[row] = frame.window
            self.changed.notify_all()
        if frame.found and self.buffer is not None:
            self.buffer.put(row, frame.image)
        elif frame.found:
            write_window(window_file(self.work, frame.index), frame.window)

    def save_windows(self) -> None:
        """Write the mask windows of frames not cut yet to `.work/masks/`, for a resumed run to cut them."""
        with self.changed:
            held = list(self.masks.items())
        for row, mask in held:
            write_window(window_file(self.work, self.indices[row]), mask)

    def close(self, final: CropTrack | None) -> None:
        """No more frames: cut the rest with the final track, or stop now if it is None."""
        with self.changed:
            self.final, self.stopped = final, True
            self.changed.notify_all()

    def join(self) -> None:
        self.thread.join()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        """Stop now and wait; an error of the crop thread is dropped (the caller has one to report)."""
        self.close(None)
        self.thread.join()

    def _affine_when_settled(self, row: int) -> np.ndarray | None | object:
        """Block until the crop of `row` is final: its affine, None without a person, or END."""
        with self.changed:
            while True:
                if self.stopped:
                    if self.final is None or row >= len(self.found):
                        return END
                    return self.final.affines[row] if self.found[row] else None
                start = box_settled(np.array(self.found), row, self.support) if row < len(self.found) else None
                if start is not None:
                    if not self.found[row]:
                        return None
                    extents, valid = np.array(self.extents[start:]), np.array(self.found[start:])
                    break
                self.changed.wait()
        centers, sides = smooth_boxes(extents, valid, self.rate, fill=PERSON_FILL)
        return crop_affine(centers[row - start], sides[row - start])

    def _run(self) -> None:
        try:
            with ThreadPoolExecutor(max_workers=2) as writers:
                self._cut_settled(writers)
        except BaseException as err:  # raised in the detection thread by add() or join()
            self.error = err
        finally:
            if self.buffer is not None:
                self.buffer.close()

    def _cut_settled(self, writers: ThreadPoolExecutor) -> None:
        decoded = None if self.buffer is not None else iter_frames(self.info, self.selection)
        pending: deque[Future] = deque()
        for row in itertools.count():
            frame = None if decoded is None else next(decoded, None)
            if decoded is not None and frame is None:
                break
            affine = self._affine_when_settled(row)
            if affine is END:
                break
            image = self.buffer.take(row) if decoded is None else frame.image
            if affine is not None and image is not None:
                pending.append(writers.submit(self._cut, row, image, affine))
            while len(pending) > 2 or (pending and pending[0].done()):
                pending.popleft().result()
        for job in pending:
            job.result()

    def _cut(self, row: int, image: np.ndarray, affine: np.ndarray) -> None:
        """Cut and write the crop and mask of `row`, unless an earlier run left both."""
        index = self.indices[row]
        crop, mask = self.run.crop_path(index), self.run.mask_path(index)
        if self.run.has_crop(index):
            pass
        elif self.buffer is None:
            cut_from_file(image, window_file(self.work, self.indices[row]), self.origins[row], affine, crop, mask)
        else:
            cut_and_write(image, self.masks[row], self.origins[row], affine, crop, mask)
        with self.changed:
            self.masks.pop(row, None)

