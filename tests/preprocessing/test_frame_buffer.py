"""The frame buffer between the detection and crop threads: bounded, in order, never stuck."""

import threading
import time

import numpy as np
import pytest

from preprocessing.frame_buffer import FrameBuffer


def frame(value: int) -> np.ndarray:
    return np.full((2, 2, 3), value, np.uint8)


def test_put_waits_while_full_and_take_frees_a_place():
    buffer = FrameBuffer(capacity=2)
    buffer.put(0, frame(0))
    buffer.put(1, frame(1))
    third = threading.Thread(target=buffer.put, args=(2, frame(2)))
    third.start()
    time.sleep(0.2)
    assert third.is_alive() and len(buffer) == 2  # bounded: the third frame waits
    assert buffer.take(0)[0, 0, 0] == 0
    third.join(timeout=5)
    assert not third.is_alive() and len(buffer) == 2
    assert buffer.take(1)[0, 0, 0] == 1 and buffer.take(2)[0, 0, 0] == 2


def test_take_drops_skipped_rows_and_misses_rows_never_put():
    buffer = FrameBuffer(capacity=4)
    for row in (0, 2, 3):
        buffer.put(row, frame(row))
    assert buffer.take(1) is None  # row 0 is dropped on the way, row 2 stays
    assert buffer.take(2)[0, 0, 0] == 2
    assert len(buffer) == 1


def test_close_releases_a_waiting_put_and_drops_later_frames():
    buffer = FrameBuffer(capacity=1)
    buffer.put(0, frame(0))
    waiting = threading.Thread(target=buffer.put, args=(1, frame(1)))
    waiting.start()
    time.sleep(0.1)
    buffer.close()
    waiting.join(timeout=5)
    assert not waiting.is_alive()
    buffer.put(2, frame(2))
    assert len(buffer) == 0 and buffer.take(2) is None


def test_capacity_must_fit_the_memory_budget():
    assert FrameBuffer.fits(100, (720, 812, 3))
    assert not FrameBuffer.fits(100, (2160, 3840, 3))
    with pytest.raises(ValueError):
        FrameBuffer(0)
