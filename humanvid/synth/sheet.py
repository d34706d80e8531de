"""A contact sheet of synthetic samples: each render beside a clay-shaded view of its ground-truth mesh."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from humanvid import atomic
from humanvid.camera import Camera
from humanvid.render.raycast import normal_map
from humanvid.render.shading import Lighting, shade
from humanvid.synth.groundtruth_io import groundtruth_trimesh

SAMPLE_FILES = ("sample.json", "render.png", "render_mask.png", "render_camera.json", "mesh.npz")


@dataclass
class SheetTile:
    """One sample on the sheet: the render and the mesh view, both (tile, tile, 3) uint8, and a caption."""

    render: np.ndarray
    mesh: np.ndarray
    caption: str


def find_samples(folder: str | Path, depth: int = 3) -> list[Path]:
    """Finished sample folders (with a render and a ground-truth mesh) under ``folder``, sorted."""
    folder = Path(folder)
    found = []
    frontier = [folder]
    for _ in range(depth + 1):
        following = []
        for path in frontier:
            if all((path / name).is_file() for name in SAMPLE_FILES):
                found.append(path)
            else:
                following.extend(sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")))
        frontier = following
    return sorted(found)


def pick_samples(folders: list[Path], count: int, seed: int) -> list[Path]:
    """``count`` folders drawn at random (without repeats) by ``seed``, in sorted order."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(folders), size=min(count, len(folders)), replace=False)
    return [folders[i] for i in sorted(chosen)]


def sample_tile(folder: Path, tile: int = 160, margin: float = 0.08) -> SheetTile:
    """The render of a sample and its ground-truth mesh from the same camera, cropped square to the person."""
    rgb = cv2.cvtColor(cv2.imread(str(folder / "render.png"), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    mask = cv2.imread(str(folder / "render_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
    camera = Camera.from_dict(json.loads((folder / "render_camera.json").read_text()))
    x0, y0, side = _square_box(mask, margin)
    scale = tile / side
    crop_affine = np.array([[scale, 0.0, -x0 * scale], [0.0, scale, -y0 * scale]])
    render = cv2.warpAffine(rgb, crop_affine, (tile, tile), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)

    # The mesh is stored in the camera frame: render it with the same intrinsics, cropped and scaled.
    mesh = groundtruth_trimesh(folder / "mesh.npz")
    tile_camera = Camera(camera.fx * scale, camera.fy * scale, (camera.cx - x0) * scale, (camera.cy - y0) * scale,
                         tile, tile, np.eye(4))
    hit, normals = normal_map(mesh, tile_camera)
    clay = np.full((int(hit.sum()), 3), 0.78)
    lit = shade(clay, normals[hit], Lighting(direction=(0.35, 0.45, 0.82), ambient=0.3, diffuse=0.8))
    view = np.full((tile, tile, 3), 38, dtype=np.uint8)
    view[hit] = np.round(lit * 255).astype(np.uint8)

    summary = json.loads((folder / "sample.json").read_text())
    garments = [g.replace("hair:", "") for g in summary.get("garments", [])]
    caption = f"{folder.name} {summary.get('motion', '')}: {' '.join(garments)}"
    return SheetTile(render, view, caption)


def contact_sheet(tiles: list[SheetTile], columns: int = 6, caption_px: int = 16) -> np.ndarray:
    """Tiles as render | mesh pairs, ``columns`` pairs per row, each with its caption: (H, W, 3) uint8."""
    tile = tiles[0].render.shape[0]
    rows = -(-len(tiles) // columns)
    gap = 4
    cell_w, cell_h = 2 * tile + gap, tile + caption_px
    sheet = np.full((rows * (cell_h + gap) + gap, columns * (cell_w + gap) + gap, 3), 250, dtype=np.uint8)
    for index, item in enumerate(tiles):
        row, column = divmod(index, columns)
        y, x = gap + row * (cell_h + gap), gap + column * (cell_w + gap)
        sheet[y:y + tile, x:x + tile] = item.render
        sheet[y:y + tile, x + tile + gap:x + 2 * tile + gap] = item.mesh
        _caption(sheet, item.caption, x, y + tile, cell_w, caption_px)
    return sheet


def write_sheet(path: str | Path, sheet: np.ndarray, colors: int = 0) -> None:
    """Write the sheet as PNG; ``colors`` > 0 quantises it to a palette of that many colours (smaller file)."""
    from PIL import Image

    image = Image.fromarray(sheet)
    if colors:
        image = image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    with atomic.atomic_path(path, suffix=".png") as temporary:
        image.save(temporary, format="PNG", optimize=True)


def _square_box(mask: np.ndarray, margin: float) -> tuple[float, float, float]:
    """Top-left corner and side [px] of a square around the mask, ``margin`` of the side on each edge."""
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        height, width = mask.shape
        side = float(min(height, width))
        return (width - side) / 2, (height - side) / 2, side
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    side = max(bottom - top, right - left) * (1.0 + 2.0 * margin)
    return (left + right - side) / 2.0, (top + bottom - side) / 2.0, float(side)


def _caption(sheet: np.ndarray, text: str, x: int, y: int, width: int, height: int) -> None:
    font, scale, thickness = cv2.FONT_HERSHEY_SIMPLEX, 0.36, 1
    while len(text) > 3 and cv2.getTextSize(text, font, scale, thickness)[0][0] > width - 4:
        text = text[:-3] + ".."
    cv2.putText(sheet, text, (x + 2, y + height - 4), font, scale, (40, 40, 40), thickness, cv2.LINE_AA)
