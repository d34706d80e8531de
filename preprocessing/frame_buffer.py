"""Decoded frames handed from the detection thread to the crop thread, so the video is decoded once."""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

FRAME_BUFFER_BYTES = 512 * 2**20  # frames held at once must fit in this, or the crop thread decodes itself


class FrameBuffer:
    """Frames in row order, at most `capacity` held at once: put() waits while it is full.

    The taker takes rows in increasing order; frames of rows it skips are dropped.
    close() releases a waiting put() for good (the taker stopped or failed).
    """

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.frames: deque[tuple[int, np.ndarray]] = deque()
        self.closed = False
        self.changed = threading.Condition()

    @staticmethod
    def fits(capacity: int, frame_shape: tuple[int, ...]) -> bool:
        """Whether `capacity` frames of `frame_shape` (uint8) stay within FRAME_BUFFER_BYTES."""
        return capacity * int(np.prod(frame_shape)) <= FRAME_BUFFER_BYTES

    def __len__(self) -> int:
        return len(self.frames)

    def put(self, row: int, image: np.ndarray) -> None:
        """Add the frame of `row` (rows increase), waiting while the buffer is full; dropped once closed."""
        with self.changed:
            while len(self.frames) >= self.capacity and not self.closed:
                self.changed.wait()
            if not self.closed:
                self.frames.append((row, image))
                self.changed.notify_all()

    def take(self, row: int) -> np.ndarray | None:
        """The frame of `row` if it was put (None if not); frames of earlier rows are dropped."""
        with self.changed:
            while self.frames and self.frames[0][0] < row:
                self.frames.popleft()
            image = self.frames.popleft()[1] if self.frames and self.frames[0][0] == row else None
            self.changed.notify_all()
            return image

    def close(self) -> None:
        with self.changed:
            self.closed = True
            self.frames.clear()
            self.changed.notify_all()
