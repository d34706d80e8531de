"""`viewer.html`: one self-contained page that plays the animated avatar over and beside the video's frames.

Left, each video frame with the avatar drawn over it through the video's own camera (the pinhole's
projection, principal point included); right, the same avatar in an orbit view. A scrubber over the
keys (showing the source frame numbers), play/pause at the video's frame rate, ← → for one frame.

The page works opened from disk (file://) with no network: the glb, the frames' JPEGs and three.js are
all inlined. three.js's ES modules are served by an import map whose entries are ``data:`` URLs (relative
imports inside them rewritten to bare specifiers; humanvid.export.three_js). three.js must have been
installed by the setup (`humanvid install-viewer`); writing a viewer without it raises HumanvidError.

The page's own HTML and JS are the templates in viewer_page/ (package data).

Test hook: ``viewer.html#frame=K&silhouette=1`` shows key K, paused, the overlay pane alone at exactly
the full video frame's size in CSS pixels, the avatar flat white (unlit, still skinned) on black without
the frame, and sets ``document.title = "ready"`` (and ``<body data-ready="1">``) once it is on screen
(``"error"`` if the page failed).
"""

from __future__ import annotations

import base64
import html
import json
import re
import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from humanvid import atomic
from humanvid.export.three_js import three_modules

TEMPLATE_FOLDER = "viewer_page"
_MARKER = re.compile(r"@@(TITLE|IMPORT_MAP|DATA|SCRIPT)@@")


@dataclass
class ViewerContent:
    glb: bytes  # the animated skinned avatar (glTF binary); its animation "video" has one key per frame below
    frames: list[bytes]  # JPEG of the video frame at each key, in key order (may be downscaled)
    times: np.ndarray  # (T,) seconds of each key (= the glb animation's key times)
    frame_numbers: np.ndarray  # (T,) source frame index of each key, shown in the UI
    camera: tuple  # fx, fy, cx, cy [px], width, height of the FULL video frame (the frames' JPEGs may be smaller)
    title: str


def write_viewer(path: str | Path, content: ViewerContent, three_folder: Path | None = None) -> None:
    """Write the page to `path` (atomically). `three_folder`: where three.js is installed (default: where
    `humanvid install-viewer` puts it). HumanvidError if three.js is not installed; ValueError if the
    content does not hang together."""
    modules = three_modules(three_folder)
    atomic.write_text(path, viewer_html(content, modules))


def viewer_html(content: ViewerContent, modules: dict[str, str]) -> str:
    """The page's text, with `modules` (bare specifier → ES module source) inlined through the import map."""
    data = _page_data(content)
    script = _template("viewer.js")
    if "</script" in script.lower():
        raise ValueError("viewer.js must not contain '</script'")
    import_map = {"imports": {name: "data:text/javascript;base64," + base64.b64encode(source.encode("utf-8")).decode()
                              for name, source in modules.items()}}
    values = {"TITLE": html.escape(content.title), "IMPORT_MAP": _script_json(import_map),
              "DATA": _script_json(data), "SCRIPT": script}
    return _MARKER.sub(lambda match: values[match.group(1)], _template("viewer.html"))


def _page_data(content: ViewerContent) -> dict:
    times = np.asarray(content.times, np.float64).reshape(-1)
    numbers = np.asarray(content.frame_numbers).reshape(-1)
    count = len(times)
    if count == 0 or len(content.frames) != count or len(numbers) != count:
        raise ValueError(f"the viewer needs one frame, time and frame number per key (got {len(content.frames)} "
                         f"frames, {count} times, {len(numbers)} frame numbers)")
    if not np.isfinite(times).all() or (np.diff(times) <= 0).any():
        raise ValueError("the viewer's key times must be finite and increasing")
    if len(content.camera) != 6:
        raise ValueError(f"camera must be fx, fy, cx, cy, width, height (got {len(content.camera)} values)")
    fx, fy, cx, cy, width, height = content.camera
    keys = _animation_key_count(content.glb)
    if keys is not None and keys != count:
        raise ValueError(f"the glb's animation has {keys} keys, the viewer got {count} frames")
    return {
        "title": content.title,
        "camera": {"fx": float(fx), "fy": float(fy), "cx": float(cx), "cy": float(cy),
                   "width": int(width), "height": int(height)},
        "times": times.tolist(),
        "frameNumbers": [int(n) for n in numbers],
        "frames": [base64.b64encode(bytes(frame)).decode() for frame in content.frames],
        "glb": base64.b64encode(bytes(content.glb)).decode(),
    }


def _animation_key_count(glb: bytes) -> int | None:
    """Key count of the glb's animation "video" (else its first), None if it has none. ValueError if not a glb."""
    glb = bytes(glb)
    if len(glb) < 20 or glb[:4] != b"glTF":
        raise ValueError("ViewerContent.glb is not a binary glTF (no 'glTF' magic)")
    length, kind = struct.unpack_from("<II", glb, 12)
    if kind != 0x4E4F534A:  # "JSON"
        raise ValueError("ViewerContent.glb: the first chunk is not JSON")
    document = json.loads(glb[20:20 + length])
    animations = document.get("animations") or []
    if not animations:
        return None
    animation = next((a for a in animations if a.get("name") == "video"), animations[0])
    return int(document["accessors"][animation["samplers"][0]["input"]]["count"])


def _script_json(value) -> str:
    """JSON safe inside a <script> element (no '<', '>' or '&' that could close or confuse it)."""
    text = json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _template(name: str) -> str:
    return resources.files("humanvid.export").joinpath(TEMPLATE_FOLDER, name).read_text(encoding="utf-8")
