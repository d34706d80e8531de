"""viewer.html in a real headless Chromium, from disk, with no network, against our own projection.

Needs Chromium (Debian's package: /usr/bin/chromium; HUMANVID_CHROMIUM names another binary) and three.js:
installed by the setup (`npm pack three@0.187.0 && humanvid install-viewer three-0.187.0.tgz`), or a tarball
named by HUMANVID_THREE_TARBALL / lying in the repository root, which the fixture installs into a temporary
folder. Without either the tests fail, saying what to install.

The browser is driven over the DevTools protocol on a pipe (--remote-debugging-pipe), so a test waits for the
page's own "ready" signal instead of guessing a time budget.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
import trimesh

from helpers import run_cli
from humanvid.camera import Camera
from humanvid.errors import HumanvidError
from humanvid.evaluation.silhouette import mask_iou
from humanvid.exchange.gltf import GltfAvatar, glb_bytes
from humanvid.export.three_js import INSTALL_COMMANDS, TARBALL_NAME, install_three, three_folder, three_installed
from humanvid.export.viewer import ViewerContent, write_viewer
from humanvid.render.raycast import cast

REPO = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 320, 240
CAMERA = (300.0, 296.0, 171.3, 108.6, WIDTH, HEIGHT)  # off-centre principal point, non-square pixels
KEYS = 4
FPS = 25.0


@pytest.fixture(scope="module")
def three(tmp_path_factory) -> Path:
    tarball = Path(os.environ.get("HUMANVID_THREE_TARBALL") or REPO / TARBALL_NAME)
    if tarball.is_file():
        return install_three(tarball, tmp_path_factory.mktemp("three") / "three")
    if three_installed():
        return three_folder()
    pytest.fail(f"three.js is not installed in {three_folder()} and there is no {tarball}; run: {INSTALL_COMMANDS}")


def tube(radius: float, length: float, rings: int = 25, segments: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """A closed tube along +y from y = 0 (rings of `segments` vertices, two cap centres), faces outward."""
    angle = np.linspace(0.0, 2.0 * np.pi, segments, endpoint=False)
    heights = np.linspace(0.0, length, rings)
    ring = np.stack([radius * np.cos(angle), np.zeros(segments), -radius * np.sin(angle)], 1)
    vertices = np.concatenate([ring + [0.0, y, 0.0] for y in heights] + [[[0.0, 0.0, 0.0], [0.0, length, 0.0]]])
    faces = []
    for r in range(rings - 1):
        for s in range(segments):
            a, b = r * segments + s, r * segments + (s + 1) % segments
            faces += [[a, b, b + segments], [a, b + segments, a + segments]]
    bottom, top = len(vertices) - 2, len(vertices) - 1
    for s in range(segments):
        last = (rings - 1) * segments
        faces += [[bottom, (s + 1) % segments, s], [top, last + s, last + (s + 1) % segments]]
    return vertices, np.array(faces)


def rigid(rotation_axis, angle: float, translation=(0.0, 0.0, 0.0)) -> np.ndarray:
    transform = np.eye(4)
    transform[:3, :3] = cv2.Rodrigues(np.asarray(rotation_axis, float) * angle)[0]
    transform[:3, 3] = translation
    return transform


def synthetic_avatar() -> tuple[GltfAvatar, np.ndarray, np.ndarray]:
    """A two-bone bending tube walking across the frame: the avatar, its rest vertices and faces."""
    vertices, faces = tube(0.12, 1.2)
    knee = np.array([0.0, 0.6, 0.0])
    lower = np.clip((vertices[:, 1] - 0.45) / 0.3, 0.0, 1.0)  # 0 below 0.45 m, 1 above 0.75 m: a soft knee
    joint_indices = np.tile([0, 1, 0, 0], (len(vertices), 1))
    joint_weights = np.stack([1.0 - lower, lower, np.zeros_like(lower), np.zeros_like(lower)], 1)
    bones = np.empty((KEYS, 2, 4, 4))
    for t in range(KEYS):
        root = rigid([0, 1, 0], 0.3 * t, [-0.5 + 0.3 * t, -0.6, -3.2 - 0.1 * t]) @ rigid([0, 0, 1], 0.15 * t)
        bend = rigid([0, 0, 1], 0.35 * t + 0.2)
        bones[t, 0] = root
        bones[t, 1] = root @ rigid([1, 0, 0], 0.0, knee) @ bend @ rigid([1, 0, 0], 0.0, -knee)  # bend about the knee
    uv = np.stack([np.arctan2(vertices[:, 2], vertices[:, 0]) / (2 * np.pi) + 0.5, vertices[:, 1] / 1.2], 1)
    texture = cv2.imencode(".png", np.indices((16, 16)).sum(0).astype(np.uint8)[..., None].repeat(3, 2) * 8)[1].tobytes()
    avatar = GltfAvatar(vertices, faces, uv, joint_indices, joint_weights, ("hip", "knee"), np.array([-1, 0]),
                        np.array([[0.0, 0.0, 0.0], knee]), bones, np.arange(KEYS) / FPS, texture, CAMERA)
    return avatar, vertices, faces


def posed(avatar: GltfAvatar, key: int) -> np.ndarray:
    """Σ_k w_k B[key, i_k] v: linear blend skinning in Python, as the viewer should pose it."""
    homogeneous = np.c_[avatar.vertices, np.ones(len(avatar.vertices))]
    per_bone = np.einsum("jab,vb->vja", avatar.bone_transforms[key], homogeneous)[..., :3]  # (V, J, 3)
    chosen = np.take_along_axis(per_bone, avatar.joint_indices[..., None], axis=1)  # (V, 4, 3)
    return (avatar.joint_weights[..., None] * chosen).sum(1)


@pytest.fixture(scope="module")
def viewer(three, tmp_path_factory) -> tuple[Path, GltfAvatar]:
    avatar, _, _ = synthetic_avatar()
    frames = [cv2.imencode(".jpg", np.full((HEIGHT // 2, WIDTH // 2, 3), 40 * k + 30, np.uint8))[1].tobytes()
              for k in range(KEYS)]
    content = ViewerContent(glb_bytes(avatar), frames, avatar.times, np.arange(KEYS) * 3 + 100, CAMERA, "synthetic <walk>")
    path = tmp_path_factory.mktemp("viewer") / "viewer.html"
    write_viewer(path, content, three_folder=three)
    return path, avatar


@pytest.mark.parametrize("key", [1, KEYS - 1])  # KEYS - 1: the clip's last key must hold, not wrap to the first
def test_the_silhouette_in_chromium_is_the_posed_mesh_through_the_video_camera(viewer, chromium, key):
    path, avatar = viewer
    ready, png, _ = chromium.open(f"{path.as_uri()}#frame={key}&silhouette=1", WIDTH, HEIGHT)
    assert ready == "1", ready
    shot = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert shot.shape == (HEIGHT, WIDTH)
    assert set(np.unique(shot)) <= set(range(0, 40)) | set(range(215, 256))  # white on black, nothing else
    expected = cast(trimesh.Trimesh(posed(avatar, key), avatar.faces, process=False), Camera(*CAMERA)).face >= 0
    assert expected.sum() > 2000
    assert mask_iou(shot > 127, expected) >= 0.9


def test_the_full_page_loads_and_steps_with_the_arrow_keys(viewer, chromium):
    path, _ = viewer
    step = "window.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight'}))"
    label = "document.getElementById('frame-label').textContent"
    ready, png, label = chromium.open(path.as_uri(), 1000, 500, then=f"{step}, {label}")
    assert ready == "1", ready
    assert cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR).shape == (500, 1000, 3)
    assert label.split() == ["frame", "103", "(2", "/", "4)"]  # frame numbers 100, 103, …: the second key


def test_the_page_fetches_nothing(viewer):
    text = viewer[0].read_text()
    assert not re.search(r"<script[^>]*\ssrc\s*=", text) and "<link" not in text
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text)
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', text, re.S).group(1))["imports"]
    assert {"three", "three/addons/loaders/GLTFLoader.js", "three/addons/controls/OrbitControls.js"} <= set(imports)
    for url in imports.values():
        assert url.startswith("data:text/javascript;base64,")
        module = base64.b64decode(url.split(",", 1)[1]).decode()
        for specifier in re.findall(r"""^(?:import|export|\})[^'"\n]*\bfrom\s*['"]([^'"]+)['"]""", module, re.M):
            assert specifier in imports, specifier  # every import is served by the map, none by the network
    page_script = text.rsplit('<script type="module">', 1)[1]
    assert "fetch(" not in page_script and "http" not in page_script


def test_writing_a_viewer_without_three_js_says_how_to_install_it(tmp_path):
    avatar, _, _ = synthetic_avatar()
    content = ViewerContent(glb_bytes(avatar), [b""] * KEYS, avatar.times, np.arange(KEYS), CAMERA, "t")
    with pytest.raises(HumanvidError) as error:
        write_viewer(tmp_path / "viewer.html", content, three_folder=tmp_path / "nothing")
    assert "npm pack three@0.187.0" in str(error.value) and "humanvid install-viewer three-0.187.0.tgz" in str(error.value)
    assert not (tmp_path / "viewer.html").exists()


def test_install_viewer_refuses_a_bad_tarball_in_one_line(tmp_path):
    bad = tmp_path / "three-0.187.0.tgz"
    bad.write_bytes(b"not a tarball")
    result = run_cli("install-viewer", bad)
    assert result.returncode == 1 and "error:" in result.stderr and "three-0.187.0.tgz" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
