"""Synthetic scenes: rendered buffers on an analytic sphere, determinism, random views, textures, backgrounds."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh
from scipy import ndimage

from humanvid.camera import Camera, look_at
from humanvid.render.shading import Lighting
from humanvid.synth.backgrounds import load_bundled_images, random_background
from humanvid.synth.camera import ViewRanges, sample_camera
from humanvid.synth.render import Appearance, render, render_random
from humanvid.synth.textures import KINDS, Logo, Pattern, apply_pattern, logo_mask, random_pattern
from render_scene import DISTANCE, FOCAL, RADIUS, SIZE, pixel_angles

def test_sphere_depth_and_normals_are_analytic(sphere, camera):
    rendering = render(sphere, camera, Appearance(np.full((len(sphere.vertices), 3), 0.5)))
    x, y = pixel_angles(camera)
    mask = rendering.mask
    d = np.stack([x[mask], y[mask], -np.ones(mask.sum())], axis=1)
    # |t d − c|² = r², c = (0, 0, −D): t² |d|² − 2 t (d·c) + D² − r² = 0, nearest root
    dc = d[:, 2] * -DISTANCE
    dd = np.einsum("ij,ij->i", d, d)
    disc = np.clip(dc**2 - dd * (DISTANCE**2 - RADIUS**2), 0, None)
    t = (dc - np.sqrt(disc)) / dd
    centre_band = np.hypot(x[mask], y[mask]) * FOCAL < 0.8 * FOCAL * RADIUS / DISTANCE
    assert np.allclose(rendering.depth[mask][centre_band], t[centre_band], atol=2e-3 * RADIUS)
    assert np.all(rendering.depth[~mask] == 0)
    normals = rendering.normals[mask]
    assert np.allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-5)
    expected = (t[:, None] * d - np.array([0.0, 0.0, -DISTANCE])) / RADIUS
    assert np.allclose(normals[centre_band], expected[centre_band], atol=0.02)
    toward_camera = -d / np.linalg.norm(d, axis=1, keepdims=True)
    assert np.all(np.einsum("ij,ij->i", normals, toward_camera) >= -1e-6)
    assert np.all(rendering.normals[~mask] == 0)


def _standing_box():
    """A 1.7 m tall box standing on z = −0.87, a stand-in for a person in Anny's frame."""
    mesh = trimesh.creation.box(extents=[0.45, 0.25, 1.7])
    mesh.apply_translation([0.0, 0.0, -0.87 + 0.85])
    return mesh


def test_sampled_cameras_frame_the_person_from_all_sides():
    mesh = _standing_box()
    rng = np.random.default_rng(0)
    ranges = ViewRanges()
    yaws = []
    for _ in range(40):
        camera = sample_camera(rng, mesh.vertices, ranges)
        pixels, depth = camera.project(mesh.vertices)
        assert np.all(depth > 0)
        assert np.all(pixels >= -0.5) and np.all(pixels[:, 0] <= camera.width - 0.5)
        assert np.all(pixels[:, 1] <= camera.height - 0.5)
        fraction = np.ptp(pixels[:, 1]) / camera.height
        assert 0.3 <= fraction <= 0.95
        assert camera.width * camera.height <= 1280 * 800
        assert 40.0 - 1e-6 <= camera.vertical_fov_deg <= 65.0 + 1e-6
        height_above_floor = camera.position[2] + 0.87
        assert 0.6 <= height_above_floor <= 2.0  # 0.8–1.8 m, give or take the framing slide
        yaws.append(math.degrees(math.atan2(camera.position[0], -camera.position[1])) % 360)
    counts = np.histogram(yaws, bins=4, range=(0, 360))[0]
    assert np.all(counts > 0)  # front, sides and back


def test_cameras_do_not_look_steeply_down_on_a_low_person():
    """A bending or sitting person (1 m tall) seen close up from up to 1.8 m: the view stays within 25° of level."""
    mesh = trimesh.creation.box(extents=[0.5, 0.6, 1.0])
    mesh.apply_translation([0.0, 0.0, 0.5])
    rng = np.random.default_rng(1)
    ranges = ViewRanges(person_fraction=(0.85, 0.9), camera_height=(1.6, 1.8))
    for _ in range(20):
        camera = sample_camera(rng, mesh.vertices, ranges)
        to_body = mesh.bounds.mean(axis=0) - camera.position
        elevation = math.degrees(math.asin(to_body[2] / np.linalg.norm(to_body)))
        assert -25.0 - 6.0 <= elevation <= 25.0 + 6.0  # the aim is jittered by a few cm about the centre
        pixels, depth = camera.project(mesh.vertices)
        assert np.all(depth > 0) and np.all(pixels >= -0.5) and np.all(pixels[:, 1] <= camera.height - 0.5)


def test_render_random_is_deterministic_and_consistent():
    mesh = _standing_box()
    colors = np.tile([0.8, 0.3, 0.2], (len(mesh.vertices), 1))
    labels = (mesh.vertices[:, 2] > 0).astype(int)
    appearance = Appearance(colors, labels, {0: Pattern("stripes", scale=0.1), 1: Pattern("skin")})
    images = load_bundled_images()
    first = render_random(mesh, appearance, np.random.default_rng(7), images)
    again = render_random(mesh, appearance, np.random.default_rng(7), images)
    other = render_random(mesh, appearance, np.random.default_rng(8), images)
    assert np.array_equal(first.rgb, again.rgb) and np.array_equal(first.depth, again.depth)
    assert not np.array_equal(first.rgb, other.rgb) or first.rgb.shape != other.rgb.shape
    h, w = first.camera.height, first.camera.width
    assert first.rgb.shape == (h, w, 3) and first.rgb.dtype == np.uint8
    assert first.mask.shape == (h, w) and first.mask.dtype == bool and first.mask.any()
    assert np.all((first.depth > 0) == first.mask)
    assert np.all((first.labels >= 0) == first.mask)
    assert set(np.unique(first.labels[first.mask])) <= {0, 1}
    _, depth = first.camera.project(mesh.vertices)
    assert depth.min() - 1e-3 <= first.depth[first.mask].min()


def test_lighting_makes_lit_side_brighter(sphere, camera):
    appearance = Appearance(np.full((len(sphere.vertices), 3), 0.6))
    rendering = render(sphere, camera, appearance, Lighting(direction=(1.0, 0.0, 0.3), ambient=0.2, diffuse=0.8))
    row = SIZE // 2
    lit, dark = rendering.rgb[row, SIZE // 2 + 20].astype(int), rendering.rgb[row, SIZE // 2 - 20].astype(int)
    assert lit.sum() > dark.sum() + 60


@pytest.mark.parametrize("kind", KINDS)
def test_patterns_are_deterministic_and_bounded(kind):
    rng = np.random.default_rng(3)
    coords = rng.uniform(-1, 1, size=(500, 3))
    base = rng.uniform(0, 1, size=(500, 3))
    pattern = Pattern(kind=kind, scale=0.07, seed=11, contrast=0.8)
    a, b = apply_pattern(pattern, base, coords), apply_pattern(pattern, base, coords)
    assert np.array_equal(a, b)
    assert a.shape == (500, 3) and a.min() >= 0.0 and a.max() <= 1.0


def test_logo_covers_its_centre_only_nearby():
    logo = Logo(centre=(0.0, 0.0, 0.0), normal=(0.0, -1.0, 0.0), radius=0.05, shape="disc", color=(1.0, 0.0, 0.0))
    points = np.array([[0.0, 0.0, 0.0], [0.03, 0.0, 0.01], [0.2, 0.0, 0.0], [0.0, 0.3, 0.0]])
    assert logo_mask(logo, points).tolist() == [True, True, False, False]
    out = apply_pattern(Pattern(logos=(logo,)), np.full((4, 3), 0.5), points)
    assert np.allclose(out[0], [1.0, 0.0, 0.0])


def test_random_pattern_and_backgrounds_depend_only_on_seed():
    points = np.random.default_rng(0).normal(size=(50, 3))
    normals = points / np.linalg.norm(points, axis=1, keepdims=True)
    assert random_pattern(np.random.default_rng(5), None, points, normals) == \
        random_pattern(np.random.default_rng(5), None, points, normals)
    images = load_bundled_images()
    assert images.pictures and images.fields  # matplotlib's sample data ships with mediapipe's matplotlib
    camera = Camera(100.0, 100.0, 63.5, 47.5, 128, 96, look_at([0, -3, 0.6], [0, 0, 0], [0, 0, 1]))
    for seed in range(12):
        a = random_background(np.random.default_rng(seed), 128, 96, images, camera, -0.87)
        b = random_background(np.random.default_rng(seed), 128, 96, images, camera, -0.87)
        assert a.shape == (96, 128, 3) and a.dtype == np.uint8
        assert np.array_equal(a, b)


def test_appearance_from_materials_renders_patterns_per_pixel(sphere, camera):
    from dataclasses import dataclass

    from humanvid.synth.render import appearance_from_materials

    @dataclass
    class Material:
        color: tuple
        pattern: dict

    materials = [Material((0.9, 0.1, 0.1), {"kind": "plain"}),
                 Material((0.1, 0.1, 0.9), {"kind": "checks", "scale": 0.05, "color": (1.0, 1.0, 1.0), "contrast": 1.0,
                                            "logos": [{"centre": (0.0, 0.0, 0.5), "normal": (0.0, 0.0, 1.0),
                                                       "radius": 0.1, "shape": "disc", "color": (0.0, 1.0, 0.0)}]})]
    labels = (sphere.vertices[:, 0] > 0).astype(int)
    texcoords = sphere.vertices - np.array([0.0, 0.0, -DISTANCE])
    appearance = appearance_from_materials(labels, texcoords, materials)
    rendering = render(sphere, camera, appearance, Lighting(ambient=1.0, diffuse=0.0))
    right = rendering.rgb[rendering.mask & (rendering.labels == 1)].astype(int)
    left = rendering.rgb[rendering.mask & (rendering.labels == 0)].astype(int)
    assert np.mean(left[:, 0] > left[:, 2]) > 0.95  # plain red (colours blend across the label border)
    assert (right.sum(axis=1) > 600).any() and (right[:, 2] > right[:, 0] + 100).any()  # white and blue checks
    centre = rendering.rgb[SIZE // 2, SIZE // 2 + 5].astype(int)
    assert centre[1] > 200 and centre[0] < 50  # the green logo faces the camera


def test_shadow_rays_darken_occluded_points(sphere, camera):
    occluder = trimesh.creation.icosphere(subdivisions=3, radius=0.2)
    occluder.apply_translation([1.0, 0.0, -2.62])  # between the light (from +x) and the point seen at col + 25
    scene = trimesh.util.concatenate([sphere, occluder])
    appearance = Appearance(np.full((len(scene.vertices), 3), 0.7))
    light = dict(direction=(1.0, 0.0, 0.0), ambient=0.2, diffuse=0.8)
    plain = render(scene, camera, appearance, Lighting(**light))
    shadowed = render(scene, camera, appearance, Lighting(**light, shadows=True))
    row, col = SIZE // 2, SIZE // 2 + 25  # on the big sphere's lit side, in the occluder's shadow
    assert plain.rgb[row, col].sum() > shadowed.rgb[row, col].sum() + 100
    assert np.array_equal(plain.rgb[SIZE // 2 - 25, SIZE // 2 + 10], shadowed.rgb[SIZE // 2 - 25, SIZE // 2 + 10])


def test_rendering_files_roundtrip_and_are_byte_stable(tmp_path):
    from humanvid.synth.rendering_io import read_rendering, write_rendering

    mesh = _standing_box()
    appearance = Appearance(np.tile([0.2, 0.6, 0.3], (len(mesh.vertices), 1)), np.zeros(len(mesh.vertices), int))
    rendering = render_random(mesh, appearance, np.random.default_rng(3))
    first = write_rendering(rendering, tmp_path / "a", "000000")
    second = write_rendering(render_random(mesh, appearance, np.random.default_rng(3)), tmp_path / "b", "000000")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    back = read_rendering(tmp_path / "a", "000000")
    assert np.array_equal(back.rgb, rendering.rgb) and np.array_equal(back.mask, rendering.mask)
    assert np.array_equal(back.labels, rendering.labels)
    assert np.allclose(back.depth, rendering.depth, atol=5e-4)
    cosine = np.einsum("ijk,ijk->ij", back.normals, rendering.normals)[rendering.mask]
    assert cosine.min() > 0.999
    assert np.allclose(back.camera.world_to_camera, rendering.camera.world_to_camera)


def test_a_clip_shares_one_view_and_stays_in_frame():
    from humanvid.synth.render import render_view, sample_view

    frames = []
    for t in range(4):  # a box walking 1.5 m sideways
        mesh = _standing_box()
        mesh.apply_translation([0.5 * t, 0.0, 0.0])
        frames.append(mesh)
    view = sample_view(np.random.default_rng(1), np.concatenate([m.vertices for m in frames]))
    appearance = Appearance(np.full((8, 3), 0.5))
    renderings = [render_view(m, appearance, view, noise=False) for m in frames]
    for rendering, mesh in zip(renderings, frames):
        pixels, _ = view.camera.project(mesh.vertices)
        assert np.all(pixels >= -0.5) and np.all(pixels <= [view.camera.width - 0.5, view.camera.height - 0.5])
        assert rendering.mask.any()
        background = ~ndimage.binary_dilation(rendering.mask, iterations=2)  # edges are anti-aliased
        assert np.array_equal(rendering.rgb[background], view.background[background])
