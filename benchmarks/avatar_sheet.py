"""A sheet of a video's canonical person (avatar/canonical.obj) from the front, the side, the back and the other
side — as clay, then in its texture (avatar/texture.png, when the run wrote one) — beside the per-frame mesh of
one frame from the same four sides, to judge the avatar by eye.

    python benchmarks/avatar_sheet.py OUT_DIR [--per-frame OTHER_OUT_DIR] [--frame N] [--tile 256] -o sheet.png

OUT_DIR is one input's folder of `humanvid reconstruct` (the default --topology canonical). With
--per-frame, a second row shows frame N's mesh of a `--topology per-frame` run of the same input
(turned so it faces the camera as the canonical mesh does). The PNG is palette-quantised under --max-mb.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import cv2
import numpy as np
import trimesh

from humanvid.exchange.obj import obj_trimesh
from humanvid.atomic import write_bytes
from humanvid.camera import Camera, look_at
from humanvid.exchange.avatar import canonical_path, read_avatar, texture_path
from humanvid.export.preview import Surface
from humanvid.render.textured import render_textured
from humanvid.exchange.run_folder import RunFolder
from humanvid.export.mesh_views import front_view

SIDES = (("front", 0.0), ("side", 90.0), ("back", 180.0), ("other side", 270.0))


def turned_views(mesh: trimesh.Trimesh, tile: int, surface: Surface | None = None) -> list[np.ndarray]:
    """(tile·1.5, tile, 3) images of a y-up mesh facing +z, seen from each of SIDES: clay, or textured (shaded,
    on white) with a `surface`."""
    centre = 0.5 * (mesh.vertices.min(axis=0) + mesh.vertices.max(axis=0))
    height = float(np.ptp(mesh.vertices[:, 1]))
    width, rows = tile, int(tile * 1.5)
    focal = 0.8 * rows / (height / 3.0)  # the person spans ~80 % of the tile's height from 3 m
    images = []
    for _, degrees in SIDES:
        angle = np.radians(degrees)
        eye = centre + 3.0 * np.array([np.sin(angle), 0.0, np.cos(angle)])
        camera = Camera(focal, focal, (width - 1) / 2, (rows - 1) / 2, width, rows, look_at(eye, centre, up=(0, 1, 0)))
        if surface is None:
            images.append(front_view(mesh, camera).image())
            continue
        mask, colour = render_textured(mesh, surface.uv, surface.uv_faces, surface.texture, camera, shade=True)
        images.append(np.where(mask[..., None], colour, 255).astype(np.uint8))
    return images


def facing_camera(vertices: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """Camera-frame vertices of a frame brought back by the inverse of the frame's root (4, 4) transform,
    so that the mesh stands y-up facing +z as the canonical mesh does."""
    inverse = np.linalg.inv(transform)
    return vertices @ inverse[:3, :3].T + inverse[:3, 3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--per-frame", type=Path, default=None, metavar="DIR")
    parser.add_argument("--frame", type=int, default=None, help="source frame of the per-frame row (default: middle)")
    parser.add_argument("--tile", type=int, default=200)
    parser.add_argument("--max-mb", type=float, default=0.4)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    run = RunFolder(args.folder)
    avatar = read_avatar(run)
    if avatar is None:
        raise SystemExit(f"{canonical_path(run)} is missing: run humanvid reconstruct with --topology canonical")
    rows = [turned_views(avatar.mesh, args.tile)]
    if texture_path(run).exists():
        texture = cv2.cvtColor(cv2.imread(str(texture_path(run))), cv2.COLOR_BGR2RGB)
        rows.append(turned_views(avatar.mesh, args.tile, Surface(avatar.atlas.uv, avatar.atlas.uv_faces, texture)))
    if args.per_frame is not None:
        frames = list(avatar.frames)
        frame = args.frame if args.frame is not None else int(frames[len(frames) // 2])
        mesh = obj_trimesh(RunFolder(args.per_frame).mesh_path(frame))
        root = avatar.bone_transforms[frames.index(frame)][0]  # the root bone: the body's place and facing
        rows.append(turned_views(trimesh.Trimesh(facing_camera(np.asarray(mesh.vertices), root), mesh.faces,
                                                 process=False), args.tile))
    sheet = np.vstack([np.hstack(row) for row in rows])
    for column, (name, _) in enumerate(SIDES):
        cv2.putText(sheet, name, (column * args.tile + 6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (40, 40, 40), 1,
                    cv2.LINE_AA)
    colours = 256
    while True:
        from PIL import Image

        image = Image.fromarray(sheet).quantize(colours)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= args.max_mb * 2**20 or colours <= 16:
            break
        colours //= 2
    write_bytes(args.output, buffer.getvalue())
    print(f"{args.output}: {buffer.tell() / 2**20:.2f} MB")


if __name__ == "__main__":
    main()
