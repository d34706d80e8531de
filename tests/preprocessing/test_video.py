"""Decoding: videos (rotation, truncation, selection), still images of every common kind."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest
from PIL import Image

from helpers import real_media
from humanvid.errors import HumanvidError
from preprocessing.video import FrameSelection, frames_at, iter_frames, natural_key, probe, read_image


def write_video(path, frames, fps=25, fourcc="mp4v"):
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()


def marked_frames(count=10, size=(48, 64)):
    """BGR frames with a red square in the top-left corner and the index in the blue channel."""
    frames = []
    for i in range(count):
        frame = np.zeros((*size, 3), np.uint8)
        frame[:12, :12, 2] = 255
        frame[20:, 20:, 0] = 10 * i
        frames.append(frame)
    return frames


def set_mp4_rotation(path, degrees_clockwise: int):
    """Patch the display matrix of the (single) track header, as phones do."""
    data = bytearray(path.read_bytes())
    one, minus = 0x10000, (-0x10000) & 0xFFFFFFFF
    identity = struct.pack(">9I", one, 0, 0, 0, one, 0, 0, 0, 0x40000000)
    matrix_at = data.find(identity, data.find(b"tkhd"))
    assert matrix_at > 0
    matrices = {90: (0, one, minus, 0), 180: (minus, 0, 0, minus), 270: (0, minus, one, 0)}
    a, b, c, d = matrices[degrees_clockwise]
    data[matrix_at:matrix_at + 36] = struct.pack(">9I", a, b, 0, c, d, 0, 0, 0, 0x40000000)
    path.write_bytes(bytes(data))


def red_corner(image):
    """Mean (row, col) of the red square in an RGB frame."""
    return np.argwhere((image[..., 0] > 200) & (image[..., 2] < 50)).mean(axis=0)


def test_video_metadata_and_streaming(tmp_path):
    path = tmp_path / "clip.mp4"
    write_video(path, marked_frames(10))
    info = probe(path)
    assert (info.kind, info.width, info.height, info.frame_count, info.fps) == ("video", 64, 48, 10, 25.0)
    frames = list(iter_frames(info))
    assert [f.index for f in frames] == list(range(10))
    assert frames[0].image.shape == (48, 64, 3) and frames[0].image.dtype == np.uint8
    assert red_corner(frames[0].image) == pytest.approx([5.5, 5.5], abs=1)  # RGB, not BGR


def test_frame_selection_keeps_source_indices(tmp_path):
    path = tmp_path / "clip.avi"
    write_video(path, marked_frames(20), fourcc="MJPG")  # near-lossless, so the index marker survives
    info = probe(path)
    chosen = [f.index for f in iter_frames(info, FrameSelection(start=3, end=15, every=4))]
    assert chosen == [3, 7, 11]
    assert [f.index for f in iter_frames(info, FrameSelection(start=2, every=3, max_frames=2))] == [2, 5]
    # the frame content is the frame with that index (blue channel encodes it)
    frame = next(iter_frames(info, FrameSelection(start=7, max_frames=1)))
    assert abs(int(frame.image[30, 30, 2]) - 70) <= 6


def test_frames_at_chosen_indices_are_those_frames(tmp_path):
    path = tmp_path / "clip.avi"
    write_video(path, marked_frames(20), fourcc="MJPG")
    info = probe(path)
    frames = list(frames_at(info, [14, 0, 7, 7, 25]))  # any order, repeated; past the end: ends there
    assert [f.index for f in frames] == [0, 7, 14]
    assert [abs(int(f.image[30, 30, 2]) - 10 * f.index) <= 6 for f in frames] == [True] * 3
    assert red_corner(frames[1].image) == pytest.approx([5.5, 5.5], abs=1)  # RGB, not BGR
    folder = tmp_path / "folder"
    folder.mkdir()
    for i, frame in enumerate(marked_frames(5)):
        cv2.imwrite(str(folder / f"{i}.png"), frame)
    assert [f.index for f in frames_at(probe(folder), [4, 1])] == [1, 4]


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_phone_rotation_metadata_is_applied(tmp_path, degrees):
    path = tmp_path / "phone.mp4"
    write_video(path, marked_frames(3))
    set_mp4_rotation(path, degrees)
    info = probe(path)
    assert info.rotation == degrees
    image = next(iter_frames(info)).image
    expected_shape = (64, 48, 3) if degrees in (90, 270) else (48, 64, 3)
    assert image.shape == expected_shape
    h, w = image.shape[:2]
    expected_corner = {90: [5.5, w - 6.5], 180: [h - 6.5, w - 6.5], 270: [h - 6.5, 5.5]}[degrees]
    assert red_corner(image) == pytest.approx(expected_corner, abs=1.5)


def test_truncated_video_keeps_decodable_frames(tmp_path):
    source = cv2.VideoCapture(str(real_media("tennis.mp4")))
    frames = [source.read()[1] for _ in range(30)]
    source.release()
    whole = tmp_path / "whole.avi"
    write_video(whole, frames, fourcc="MJPG")
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    info = probe(cut)
    decoded = list(iter_frames(info))
    assert 5 <= len(decoded) < 30
    assert info.frame_count == 30  # the header still promises all of them


def test_exif_orientation_is_applied(tmp_path):
    image = np.zeros((40, 60, 3), np.uint8)
    image[:10, :10] = (255, 0, 0)
    path = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored image must be rotated 90° clockwise for display
    Image.fromarray(image).save(path, exif=exif, quality=95)
    info = probe(path)
    assert (info.width, info.height) == (40, 60)
    shown = read_image(path)
    assert shown.shape == (60, 40, 3)
    assert red_corner(shown) == pytest.approx([4.5, 35.5], abs=1.5)


@pytest.mark.parametrize("kind", ["gray", "rgba", "gray16", "rgb16", "palette"])
def test_still_image_kinds_become_rgb8(tmp_path, kind):
    path = tmp_path / f"{kind}.png"
    gradient = np.tile(np.linspace(0, 1, 32), (16, 1))
    if kind == "gray":
        cv2.imwrite(str(path), (gradient * 255).astype(np.uint8))
    elif kind == "gray16":
        cv2.imwrite(str(path), (gradient * 65535).astype(np.uint16))
    elif kind == "rgb16":
        cv2.imwrite(str(path), np.dstack([(gradient * 65535).astype(np.uint16)] * 3))
    elif kind == "rgba":
        rgba = np.zeros((16, 32, 4), np.uint8)
        rgba[..., 0] = 200
        rgba[:, 16:, 3] = 255  # left half transparent
        Image.fromarray(rgba, "RGBA").save(path)
    else:
        Image.fromarray((gradient * 255).astype(np.uint8)).convert("P").save(path)
    image = read_image(path)
    assert image.shape == (16, 32, 3) and image.dtype == np.uint8
    if kind == "rgba":
        assert tuple(image[0, 0]) == (255, 255, 255)  # transparent → white, not stray colour
        assert tuple(image[0, 31]) == (200, 0, 0)
    else:
        assert image[0, 0].max() <= 5 and image[0, -1].min() >= 240  # full range kept


def test_natural_sort_order(tmp_path):
    for name in ["frame10.png", "frame2.png", "frame1.png"]:
        cv2.imwrite(str(tmp_path / name), np.zeros((8, 8, 3), np.uint8))
    info = probe(tmp_path)
    assert [p.split("/")[-1] for p in info.files] == ["frame1.png", "frame2.png", "frame10.png"]
    assert sorted(["a10", "a9", "b1"], key=natural_key) == ["a9", "a10", "b1"]


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"this is not a video\n" * 10, "not a readable video"),
])
def test_unreadable_video_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(HumanvidError, match=message):
        probe(path)


def test_corrupt_image_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(real_media("lunge_6016x4016.jpg").read_bytes()[:4000])
    with pytest.raises(HumanvidError, match="not a readable image"):
        read_image(path)
