"""Frames in: videos, single images and folders of images, streamed one frame at a time.

Videos are decoded with OpenCV (FFmpeg) and never held in memory as a whole;
rotation metadata of phone videos is applied. Images go through Pillow so that
EXIF orientation, palette, grayscale, RGBA and 16-bit files all come out as
H×W×3 uint8 RGB.
"""

from __future__ import annotations

import queue
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence, TypeVar

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from humanvid.errors import HumanvidError

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ts"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}

Image.MAX_IMAGE_PIXELS = 200_000_000  # a 24 MP phone photo is fine; refuse absurd sizes


@dataclass(frozen=True)
class MediaInfo:
    """What we know about an input before decoding it all."""

    path: str
    kind: str  # "video" | "image" | "image_folder"
    width: int  # after rotation / EXIF orientation
    height: int
    fps: float | None  # None for single images and image folders
    frame_count: int  # videos: from the container, may be wrong for damaged files
    rotation: int = 0  # degrees clockwise applied to the stored video frames
    files: tuple[str, ...] = ()  # image_folder: the images in natural sort order

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "kind": self.kind,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "frame_count": self.frame_count,
            "rotation": self.rotation,
        }


@dataclass(frozen=True)
class FrameSelection:
    """Which source frames to use: [start, end) every `every`, at most `max_frames`."""

    start: int = 0
    end: int | None = None
    every: int = 1
    max_frames: int | None = None

    def contains(self, index: int, taken: int) -> bool:
        """Whether frame `index` is used, given `taken` frames were used before it."""
        if index < self.start or (self.end is not None and index >= self.end):
            return False
        if self.max_frames is not None and taken >= self.max_frames:
            return False
        return (index - self.start) % self.every == 0

    def past_end(self, index: int, taken: int) -> bool:
        return (self.end is not None and index >= self.end) or (
            self.max_frames is not None and taken >= self.max_frames
        )

    def indices(self, frame_count: int) -> list[int]:
        stop = frame_count if self.end is None else min(self.end, frame_count)
        chosen = list(range(self.start, stop, self.every))
        return chosen if self.max_frames is None else chosen[: self.max_frames]


@dataclass
class Frame:
    index: int  # index of the frame in the source (0-based), kept through subsampling
    image: np.ndarray | None  # H×W×3 uint8 RGB; None when this frame could not be read
    error: str | None = None  # why it could not be read


def natural_key(name: str) -> list:
    """Sort key so that frame2.png comes before frame10.png."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def list_images(folder: Path) -> list[Path]:
    files = [p for p in folder.iterdir() if p.is_file() and is_image(p) and not p.name.startswith(".")]
    return sorted(files, key=lambda p: natural_key(p.name))


def read_image(path: str | Path) -> np.ndarray:
    """Read any common still image as H×W×3 uint8 RGB, EXIF orientation applied."""
    path = Path(path)
    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            return _to_rgb8(img)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
        raise HumanvidError(f"{path}: not a readable image ({_short(err)})") from None
    except Image.DecompressionBombError:
        raise HumanvidError(f"{path}: image is too large to process") from None


def _to_rgb8(img: Image.Image) -> np.ndarray:
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        values = np.asarray(img, dtype=np.float64)
        top = 65535.0 if values.max(initial=0) > 255 or img.mode != "I" else 255.0
        gray = np.clip(values * (255.0 / top), 0, 255).round().astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if img.mode == "F":
        values = np.asarray(img, dtype=np.float64)
        scale = 255.0 if values.max(initial=0) <= 1.0 else 1.0
        gray = np.clip(values * scale, 0, 255).round().astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Transparent pixels carry arbitrary colour: put the picture on white.
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    return np.ascontiguousarray(np.asarray(img.convert("RGB")))


def _image_size(path: Path) -> tuple[int, int]:
    """Width and height after EXIF orientation, from the header alone."""
    try:
        with Image.open(path) as img:
            width, height = img.size
            if img.getexif().get(0x0112, 1) in (5, 6, 7, 8):  # rotated by 90 or 270 degrees
                width, height = height, width
            return width, height
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
        raise HumanvidError(f"{path}: not a readable image ({_short(err)})") from None


def probe(path: str | Path) -> MediaInfo:
    """Describe a video file, an image file or a folder of images."""
    path = Path(path)
    if not path.exists():
        raise HumanvidError(f"{path}: no such file or folder")
    if path.is_dir():
        files = list_images(path)
        if not files:
            raise HumanvidError(f"{path}: folder holds no images or videos")
        first = read_image(files[0])
        return MediaInfo(
            path=str(path), kind="image_folder", width=first.shape[1], height=first.shape[0],
            fps=None, frame_count=len(files), files=tuple(str(f) for f in files),
        )
    if is_image(path):
        width, height = _image_size(path)
        return MediaInfo(str(path), "image", width, height, None, 1)
    return _probe_video(path)


def _open_video(path: Path) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        capture.release()
        raise HumanvidError(f"{path}: not a readable video or image")
    capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return capture


def _probe_video(path: Path) -> MediaInfo:
    if path.stat().st_size == 0:
        raise HumanvidError(f"{path}: file is empty")
    capture = _open_video(path)
    try:
        ok, first = capture.read()
        if not ok or first is None:
            raise HumanvidError(f"{path}: video has no decodable frames")
        fps = capture.get(cv2.CAP_PROP_FPS)
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        rotation = int(capture.get(cv2.CAP_PROP_ORIENTATION_META)) % 360
    finally:
        capture.release()
    return MediaInfo(
        path=str(path), kind="video", width=first.shape[1], height=first.shape[0],
        fps=float(fps) if fps and np.isfinite(fps) and fps > 0 else 30.0,
        frame_count=max(count, 1), rotation=rotation,
    )


def iter_frames(info: MediaInfo, selection: FrameSelection = FrameSelection()) -> Iterator[Frame]:
    """Yield the selected frames in order, decoding one at a time.

    Videos are read to the end of the selection or the last decodable frame,
    whichever comes first; frames outside the selection are skipped without
    being converted.
    """
    if info.kind == "image":
        if selection.contains(0, 0):
            yield Frame(0, read_image(info.path))
        return
    if info.kind == "image_folder":
        for index in selection.indices(len(info.files)):
            try:
                image = read_image(info.files[index])
            except HumanvidError as err:
                yield Frame(index, None, str(err))
                continue
            if image.shape[:2] != (info.height, info.width):
                yield Frame(index, None, f"size {image.shape[1]}x{image.shape[0]} differs from the first image")
                continue
            yield Frame(index, image)
        return
    capture = _open_video(Path(info.path))
    try:
        index = taken = 0
        while not selection.past_end(index, taken):
            if selection.contains(index, taken):
                ok, bgr = capture.read()
                if not ok or bgr is None:
                    return
                yield Frame(index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                taken += 1
            elif not capture.grab():
                return
            index += 1
    finally:
        capture.release()


def frames_at(info: MediaInfo, indices: Sequence[int]) -> Iterator[Frame]:
    """The frames of source `indices`, in ascending order, decoded one at a time: a video's frames between them
    are skipped without being converted, and a video ending sooner ends them; images as iter_frames reads them."""
    wanted = sorted({int(i) for i in indices})
    if info.kind != "video":
        for index in wanted:
            yield from iter_frames(info, FrameSelection(index, index + 1))
        return
    capture = _open_video(Path(info.path))
    try:
        index = 0
        for target in wanted:
            while index < target:
                if not capture.grab():
                    return
                index += 1
            ok, bgr = capture.read()
            if not ok or bgr is None:
                return
            yield Frame(index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            index += 1
    finally:
        capture.release()


def _short(err: Exception) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:120]


T = TypeVar("T")


def prefetched(items: Iterator[T], depth: int = 3) -> Iterator[T]:
    """Produce `items` in a background thread, at most `depth` ahead of the consumer.

    Decoding (which releases the GIL) then overlaps with the consumer's work;
    memory stays bounded. Exceptions from the producer are re-raised here.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce():
        try:
            for item in items:
                if stop.is_set():
                    break
                buffer.put((item, None))
        except BaseException as err:  # handed to the consumer
            buffer.put((done, err))
            return
        buffer.put((done, None))

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while True:
            item, error = buffer.get()
            if item is done:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full buffer
            try:
                buffer.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.01)
