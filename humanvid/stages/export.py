"""The export stage: what people open — the texture of the OBJ sequence, avatar.glb, viewer.html, preview.mp4.

Reads the run folder after the mesh stage. With the canonical topology:

- obj: `avatar/texture.png` (and the same file as `meshes/texture.png`), baked from up to
  ``TEXTURE_VIEWS`` frames spread over the video (humanvid.texture.bake); `avatar/canonical.obj` and every
  `meshes/NNNNNN.obj` name it through the MTL beside them (humanvid.exchange.avatar);
- glb: `avatar.glb`, the textured canonical mesh skinned to the body's bones (its ``GLB_INFLUENCES``
  strongest influences per vertex, renormalised: what glTF viewers and game engines read), one
  animation key per meshed frame at the video's frame rate, and the video camera
  (humanvid.exchange.gltf). It is the canonical mesh moved by its bones: the per-frame refinement
  offsets of `meshes/` are not in it;
- html: `viewer.html`, the glb over and beside the video's frames (humanvid.export.viewer), the frames as
  JPEGs at most ``VIEWER_HEIGHT`` pixels high;
- preview: `preview.mp4`, each selected frame with its mesh drawn over it beside a view circling the
  mesh (humanvid.export.preview).

The texture is made whenever any of them is asked for (they all show it). Per-frame meshes share no
topology: only their preview (tinted) can be made.
"""

from __future__ import annotations

import time
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import trimesh

from humanvid import atomic
from humanvid.camera import Camera
from humanvid.exchange.avatar import SavedAvatar, read_avatar, write_texture
from humanvid.exchange.gltf import GltfAvatar, glb_bytes
from humanvid.exchange.obj import read_obj
from humanvid.exchange.run_folder import RunFolder
from humanvid.export.preview import SIDE_BACKGROUND, TURN_SECONDS, Surface, side_view, textured_overlay, write_video
from humanvid.texture.atlas import texel_surface
from humanvid.texture.bake import BakeStats, TextureBaker, View

TEXTURE_VIEWS = 24  # frames the texture is baked from, spread evenly over the meshed frames
VIEWER_HEIGHT = 360  # px, the viewer's frames are shrunk to at most this height
VIEWER_QUALITY = 75  # JPEG quality of the viewer's frames
GLB_INFLUENCES = 4  # bones per vertex in avatar.glb
PREVIEW_WORKERS = 2  # processes drawing the preview of a long video
PREVIEW_HEIGHT = 1080  # px, taller frames are shrunk to this height in the preview
PARALLEL_FROM = 48  # frames: a shorter preview is drawn in this process (starting workers costs ~2 s)


@dataclass
class ExportResult:
    written: list[str] = field(default_factory=list)  # files, relative to the run folder
    notes: list[str] = field(default_factory=list)  # what was not written, and why
    texture: BakeStats | None = None
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)  # seconds per part: texture, glb, frames (html + preview)


def run_export(run: RunFolder, info, selection, meshed: list[int], selected: int, kinds: tuple[str, ...],
               on_progress: Callable[[int], None] = lambda _: None) -> ExportResult:
    """Write the `kinds` (of humanvid.settings.EXPORTS) of the run; `meshed`: the source frames with a mesh,
    in order, of the `selected` frames. `on_progress(1)` after each view baked into the texture and each frame the preview and the
    viewer read (export_steps counts them)."""
    started = time.perf_counter()
    result = ExportResult(timings=dict.fromkeys(("texture", "glb", "frames"), 0.0))
    avatar = read_avatar(run)
    camera = run.read_camera()
    fps = info.fps or 30.0
    surface, glb = None, None
    if avatar is None:
        result.notes += [f"{kind}: needs --topology canonical" for kind in kinds if kind != "preview"]
    else:
        tick = time.perf_counter()
        surface, result.texture = bake_texture(run, avatar, meshed, on_progress)
        png = _png(surface.texture)
        result.written += [_relative(run, path) for path in write_texture(run, png)]
        result.timings["texture"] = time.perf_counter() - tick
        if "glb" in kinds or "html" in kinds:
            tick = time.perf_counter()
            rows = _rows(avatar)
            glb = glb_bytes(gltf_avatar(avatar, png, [rows[frame] for frame in meshed], np.asarray(meshed) / fps,
                                        camera))
            if "glb" in kinds:
                atomic.write_bytes(run.root / "avatar.glb", glb)
                result.written.append("avatar.glb")
            result.timings["glb"] = time.perf_counter() - tick
    tick = time.perf_counter()
    jpegs: dict[int, bytes] = {}
    want_html = "html" in kinds and glb is not None
    if "preview" in kinds or want_html:
        frames = _read_frames(info, selection, set(meshed), jpegs if want_html else None, on_progress)
        if "preview" in kinds:
            faces = None if avatar is None else np.asarray(avatar.mesh.faces)
            write_video(run.preview_path, preview_frames(run, frames, camera, surface, faces, fps,
                                                         selected), fps / selection.every)
            result.written.append(_relative(run, run.preview_path))
        else:
            for _ in frames:
                pass
    if want_html:
        from humanvid.export.viewer import ViewerContent, write_viewer

        content = ViewerContent(glb, [jpegs[frame] for frame in meshed], np.asarray(meshed) / fps,
                                np.asarray(meshed), (camera.fx, camera.fy, camera.cx, camera.cy, camera.width,
                                                     camera.height), run.root.name)
        write_viewer(run.root / "viewer.html", content)
        result.written.append("viewer.html")
    result.timings["frames"] = time.perf_counter() - tick
    result.seconds = time.perf_counter() - started
    return result


def export_steps(meshed: int, selected: int, kinds: tuple[str, ...], canonical: bool) -> int:
    """How many times run_export calls on_progress: views baked, then frames read."""
    views = min(TEXTURE_VIEWS, meshed) if canonical and kinds else 0
    reads = selected if "preview" in kinds or (canonical and "html" in kinds) else 0
    return views + reads


def bake_texture(run: RunFolder, avatar: SavedAvatar, meshed: list[int],
                 on_view: Callable[[int], None] = lambda _: None) -> tuple[Surface, BakeStats]:
    """The avatar's texture from up to TEXTURE_VIEWS of the `meshed` frames, spread evenly over them."""
    faces = np.asarray(avatar.mesh.faces)
    picks = [meshed[i] for i in np.unique(np.linspace(0, len(meshed) - 1, min(TEXTURE_VIEWS, len(meshed)))
                                                   .round().astype(int))] if meshed else []
    baker = TextureBaker(avatar.atlas, texel_surface(avatar.atlas), faces, len(picks))
    track = run.read_keypoints()
    rows = {int(frame): row for row, frame in enumerate(track.frames)}
    camera = run.read_camera()
    for frame in picks:
        vertices = read_obj(run.mesh_path(frame), vertices_only=True).vertices
        crop = run.read_crop(frame)
        baker.add(View(vertices, crop, run.read_mask(frame), camera.cropped(track.affines[rows[frame]],
                                                                            crop.shape[0])))
        on_view(1)
    texture, stats = baker.texture()
    return Surface(avatar.atlas.uv, avatar.atlas.uv_faces, texture), stats


def gltf_avatar(avatar: SavedAvatar, texture_png: bytes | None, rows: list[int], times: np.ndarray,
                camera: Camera) -> GltfAvatar:
    """The avatar as glTF wants it: one vertex per (surface point, texture coordinate), its GLB_INFLUENCES
    strongest bones renormalised, the bones of the skin rows `rows` as keys at `times` [s]."""
    split = avatar.atlas.uv_vertex
    order = np.argsort(-avatar.skin.bone_weights, axis=1, kind="stable")[:, :GLB_INFLUENCES]
    indices = np.take_along_axis(avatar.skin.bone_indices, order, axis=1)
    weights = np.take_along_axis(avatar.skin.bone_weights, order, axis=1)
    weights = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    return GltfAvatar(
        vertices=np.asarray(avatar.mesh.vertices)[split], faces=avatar.atlas.uv_faces, uv=avatar.atlas.uv,
        joint_indices=indices[split], joint_weights=weights[split], joint_names=avatar.joint_names,
        joint_parents=np.asarray(avatar.joint_parents), rest_heads=np.asarray(avatar.rest_joints, np.float64),
        bone_transforms=np.asarray(avatar.bone_transforms, np.float64)[rows], times=np.asarray(times, np.float64),
        texture_png=texture_png, camera=(camera.fx, camera.fy, camera.cx, camera.cy, camera.width, camera.height),
    )


def preview_frames(run: RunFolder, frames: Iterator, camera: Camera, surface: Surface | None,
                   faces: np.ndarray | None, fps: float, count: int) -> Iterator[np.ndarray]:
    """Each of the `count` frames with its mesh drawn over it, beside the mesh seen from a circling camera
    (grey where the frame has no mesh), in order. `faces`: the meshes' shared faces (None: each mesh's
    own). Long videos are drawn by PREVIEW_WORKERS processes (numpy's rasteriser holds the interpreter's lock
    much of the time)."""
    painter = PreviewPainter(run.root, camera, surface, faces, fps)
    if count < PARALLEL_FROM:
        for frame in frames:
            yield painter.draw(frame.index, frame.image)
        return
    context = multiprocessing.get_context("spawn")  # not fork: the mesh stage's threads live in this process
    with ProcessPoolExecutor(PREVIEW_WORKERS, mp_context=context, initializer=_start_painter,
                             initargs=(painter,)) as pool:
        pending = deque()
        for frame in frames:
            pending.append(pool.submit(_paint, frame.index, frame.image))
            if len(pending) > 2 * PREVIEW_WORKERS:  # a few frames ahead, never the whole video in memory
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


@dataclass
class PreviewPainter:
    """Draws one preview frame: the mesh over the frame, beside the mesh from the circling camera."""

    root: Path
    camera: Camera
    surface: Surface | None
    faces: np.ndarray | None
    fps: float

    def draw(self, index: int, image: np.ndarray) -> np.ndarray:
        """(H, 2 W, 3) the frame (shrunk to at most PREVIEW_HEIGHT rows) with the mesh, and the side panel."""
        camera = self.camera
        if camera.height > PREVIEW_HEIGHT:
            camera = camera.resized(PREVIEW_HEIGHT / camera.height)
            image = cv2.resize(image, (camera.width, camera.height), interpolation=cv2.INTER_AREA)
        path = RunFolder(self.root).mesh_path(index)
        if not path.exists():
            return np.hstack([image, np.full_like(image, SIDE_BACKGROUND)])
        if self.faces is None:
            obj = read_obj(path)
            mesh = trimesh.Trimesh(obj.vertices, obj.faces, process=False)
        else:
            mesh = trimesh.Trimesh(read_obj(path, vertices_only=True).vertices, self.faces, process=False)
        side_camera = camera.resized(0.5)  # the side panel at half size, scaled up: a quarter of the pixels
        side = side_view(mesh, 2.0 * np.pi * index / (self.fps * TURN_SECONDS), side_camera, self.surface)
        side = cv2.resize(side, (camera.width, camera.height), interpolation=cv2.INTER_LINEAR)
        return np.hstack([textured_overlay(image, mesh, camera, self.surface), side])


_PAINTER: list[PreviewPainter] = []  # a worker process's painter


def _start_painter(painter: PreviewPainter) -> None:
    _PAINTER.append(painter)


def _paint(index: int, image: np.ndarray) -> np.ndarray:
    return _PAINTER[0].draw(index, image)


def _read_frames(info, selection, meshed: set[int], jpegs: dict | None, on_progress) -> Iterator:
    """The selected frames that could be read, in order; the meshed ones' JPEGs for the viewer go to `jpegs`."""
    from preprocessing.video import iter_frames

    for frame in iter_frames(info, selection):
        on_progress(1)
        if frame.image is None:
            continue
        if jpegs is not None and frame.index in meshed:
            jpegs[frame.index] = _viewer_jpeg(frame.image)
        yield frame


def _viewer_jpeg(image: np.ndarray) -> bytes:
    height, width = image.shape[:2]
    if height > VIEWER_HEIGHT:
        image = cv2.resize(image, (round(width * VIEWER_HEIGHT / height), VIEWER_HEIGHT), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, VIEWER_QUALITY])
    return data.tobytes()


def _png(texture: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", cv2.cvtColor(texture, cv2.COLOR_RGB2BGR))
    return data.tobytes()


def _rows(avatar: SavedAvatar) -> dict[int, int]:
    return {int(frame): row for row, frame in enumerate(avatar.frames)}


def _relative(run: RunFolder, path) -> str:
    return str(path.relative_to(run.root))
