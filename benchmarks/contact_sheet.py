"""A contact sheet of video frames next to their reconstructed meshes, to judge them by eye.

    python benchmarks/contact_sheet.py OUT_DIR [--frames 0,40,80 | --count 6] [--overlay] [--tile 256] -o sheet.png

OUT_DIR is one input's folder of ``humanvid reconstruct`` (crops/, meshes/,
camera.json, keypoints.json). One row per frame, picked evenly over the meshed
frames unless --frames names them: the crop the network saw, the mesh from the
video's camera (lines up with the crop), the mesh turned 90° about the vertical
axis at the same scale, and with --overlay the mesh laid over the crop. The PNG
is written atomically and kept under --max-mb (palette-quantised when needed).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from humanvid.exchange.obj import obj_trimesh
from humanvid.atomic import write_bytes
from humanvid.camera import Camera
from humanvid.export.mesh_views import front_view, overlay, side_view

GAP = 4  # px between tiles
LABEL_WIDTH = 56  # px of the frame-number column
HEADER_HEIGHT = 22  # px of the column titles
SHEET_GREY = 222  # gaps and margins, so white tiles stand apart
INK = (40, 40, 40)


@dataclass
class SheetRow:
    """One frame on the sheet: its number and its tiles, each (tile, tile, 3) uint8, titled."""

    frame: int
    tiles: list[np.ndarray]
    titles: list[str]


@dataclass
class ReconstructedVideo:
    """What the sheet reads of a reconstruct output folder."""

    folder: Path
    camera: Camera  # full frame
    crop_affines: dict[int, np.ndarray]  # source frame → (2, 3) full frame → crop px
    crop_size: int
    meshed: list[int]  # source frames with meshes/NNNNNN.obj, ascending


def load_video(folder: Path) -> ReconstructedVideo:
    camera = Camera.from_dict(json.loads((folder / "camera.json").read_text()))
    keypoints = json.loads((folder / "keypoints.json").read_text())
    affines = {int(e["frame"]): np.asarray(e["crop_affine"], np.float64) for e in keypoints["frames"]
               if e.get("crop_affine") is not None}
    meshed = sorted(int(p.stem) for p in (folder / "meshes").glob("[0-9]*.obj") if p.stem.isdigit())
    return ReconstructedVideo(folder, camera, affines, int(keypoints.get("crop_size", 512)), meshed)


def pick_frames(meshed: list[int], count: int) -> list[int]:
    """``count`` frames spread evenly over ``meshed`` (first and last included)."""
    if count >= len(meshed):
        return list(meshed)
    rows = np.round(np.linspace(0, len(meshed) - 1, count)).astype(int)
    return [meshed[row] for row in rows]


def frame_row(video: ReconstructedVideo, frame: int, tile: int, with_overlay: bool) -> SheetRow:

    name = f"{frame:06d}"
    crop = cv2.imread(str(video.folder / "crops" / f"{name}.png"), cv2.IMREAD_COLOR)
    if crop is None:
        raise SystemExit(f"{video.folder}: crops/{name}.png is missing")
    crop = cv2.resize(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB), (tile, tile), interpolation=cv2.INTER_AREA)
    mesh = obj_trimesh(video.folder / "meshes" / f"{name}.obj")
    camera = video.camera.cropped(video.crop_affines[frame], video.crop_size).resized(tile / video.crop_size)
    front = front_view(mesh, camera)
    tiles, titles = [crop, front.image(), side_view(mesh, camera).image()], ["crop", "front", "side"]
    if with_overlay:
        tiles.append(overlay(crop, front))
        titles.append("overlay")
    return SheetRow(frame, tiles, titles)


def compose(rows: list[SheetRow]) -> np.ndarray:
    """(H, W, 3) uint8: column titles on top, then a row of tiles per frame, its number on the left."""
    tile = rows[0].tiles[0].shape[0]
    columns = len(rows[0].tiles)
    width = LABEL_WIDTH + columns * (tile + GAP) + GAP
    height = HEADER_HEIGHT + len(rows) * (tile + GAP) + GAP
    sheet = np.full((height, width, 3), SHEET_GREY, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    _text(sheet, "frame", (GAP + 2, HEADER_HEIGHT - 6), 0.5)
    for column, name in enumerate(rows[0].titles):
        x = LABEL_WIDTH + GAP + column * (tile + GAP)
        text_width = cv2.getTextSize(name, font, 0.5, 1)[0][0]
        _text(sheet, name, (x + (tile - text_width) // 2, HEADER_HEIGHT - 6), 0.5)
    for index, row in enumerate(rows):
        y = HEADER_HEIGHT + GAP + index * (tile + GAP)
        _text(sheet, str(row.frame), (GAP + 2, y + tile // 2 + 6), 0.6, thickness=2)
        for column, image in enumerate(row.tiles):
            x = LABEL_WIDTH + GAP + column * (tile + GAP)
            sheet[y:y + tile, x:x + tile] = image
    return sheet


def png_bytes(image: np.ndarray, max_bytes: int) -> bytes:
    """PNG of an RGB image; palette-quantised (256 colours) when the full-colour file exceeds ``max_bytes``."""
    from PIL import Image

    picture = Image.fromarray(image)
    for candidate in (picture, picture.quantize(colors=256, method=Image.Quantize.MEDIANCUT)):
        buffer = io.BytesIO()
        candidate.save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= max_bytes:
            break
    return buffer.getvalue()


def _text(sheet: np.ndarray, text: str, origin: tuple[int, int], scale: float, thickness: int = 1) -> None:
    cv2.putText(sheet, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, INK, thickness, cv2.LINE_AA)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="one input's folder of `humanvid reconstruct`")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--frames", help="comma-separated source frame numbers, e.g. 0,40,80")
    choice.add_argument("--count", type=int, default=6, help="frames picked evenly over the meshed ones")
    parser.add_argument("--overlay", action="store_true", help="add a column with the mesh over the crop")
    parser.add_argument("--tile", type=int, default=256, help="tile side [px]")
    parser.add_argument("--max-mb", type=float, default=1.5, help="PNG size cap [MB]")
    parser.add_argument("-o", "--output", type=Path, required=True, help="PNG to write")
    args = parser.parse_args(argv)

    video = load_video(args.out_dir)
    if not video.meshed:
        raise SystemExit(f"{args.out_dir}: no meshes/NNNNNN.obj")
    if args.frames:
        frames = [int(f) for f in args.frames.split(",") if f.strip()]
        missing = [f for f in frames if f not in video.meshed]
        if missing:
            raise SystemExit(f"{args.out_dir}: no mesh for frame(s) {missing}; meshed: "
                             f"{video.meshed[0]}..{video.meshed[-1]} ({len(video.meshed)} frames)")
    else:
        frames = pick_frames(video.meshed, max(1, args.count))
    rows = []
    for frame in frames:
        rows.append(frame_row(video, frame, args.tile, args.overlay))
        print(f"frame {frame}", file=sys.stderr, flush=True)
    sheet = compose(rows)
    data = png_bytes(sheet, int(args.max_mb * 1e6))
    write_bytes(args.output, data)
    print(f"{args.output}: {len(frames)} frames, {sheet.shape[1]}x{sheet.shape[0]} px, {len(data) / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
