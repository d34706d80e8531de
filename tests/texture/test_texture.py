"""The UV atlas and the texture baked from views: a sphere painted front and back, seen by cameras around it."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from humanvid.export.preview import orbit_camera
from humanvid.render.raycast import cast, interpolate
from humanvid.render.textured import render_textured
from humanvid.texture.atlas import texel_surface, unwrap
from humanvid.texture.bake import TextureBaker, View
from render_scene import sphere_in_front, square_camera

RED, BLUE, GREEN = np.array([220, 40, 30]), np.array([30, 60, 210]), np.array([40, 200, 60])


@pytest.fixture(scope="module")
def sphere():
    mesh = sphere_in_front()
    return trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)


@pytest.fixture(scope="module")
def atlas(sphere):
    return unwrap(sphere.vertices, sphere.faces, size=256)


def painted(mesh: trimesh.Trimesh) -> np.ndarray:
    """(V, 3) the sphere's true colours: red where it faces the camera (+z), blue behind, a green band."""
    centre = mesh.vertices.mean(axis=0)
    offset = mesh.vertices - centre
    colours = np.where(offset[:, 2:] > 0, RED, BLUE).astype(np.float64)
    colours[np.abs(offset[:, 1]) < 0.08] = GREEN
    return colours


def photograph(mesh: trimesh.Trimesh, colours: np.ndarray, angle: float, occluder: bool = False) -> View:
    """What a camera circling the sphere by `angle` sees: the image of the coloured mesh and its mask
    (with an occluder: a grey slab in front, not part of the mesh, covering the left half)."""
    camera = orbit_camera(mesh, angle, square_camera())
    hits = cast(mesh, camera)
    drawn = hits.face >= 0
    image = np.zeros((camera.height, camera.width, 3), np.uint8)
    image[drawn] = np.clip(interpolate(colours, mesh.faces[hits.face[drawn]], hits.barycentric[drawn]), 0, 255)
    if occluder:
        image[:, : camera.width // 2][drawn[:, : camera.width // 2]] = 128
    return View(mesh.vertices, image, (drawn * 255).astype(np.uint8), camera)


def test_the_atlas_maps_every_face_once_onto_one_page(sphere, atlas):
    assert atlas.uv.min() >= 0.0 and atlas.uv.max() <= 1.0
    assert np.array_equal(atlas.uv_vertex[atlas.uv_faces], sphere.faces)  # each corner keeps its vertex
    corners = atlas.uv[atlas.uv_faces]
    areas = 0.5 * np.abs(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]))
    assert (areas > 0).all() and 0.3 < areas.sum() < 1.0  # charts do not overlap and fill much of the page
    surface = texel_surface(atlas)
    assert len(np.unique(surface.rows * atlas.size + surface.cols)) == len(surface.rows)
    np.testing.assert_allclose(surface.barycentric.sum(axis=1), 1.0)
    points = surface.points(sphere.vertices, sphere.faces)  # every texel lies on the sphere
    assert np.abs(np.linalg.norm(points - sphere.vertices.mean(axis=0), axis=1) - 0.5).max() < 0.01


def baked(sphere, atlas, views):
    surface = texel_surface(atlas)
    baker = TextureBaker(atlas, surface, sphere.faces, len(views))
    for view in views:
        baker.add(view)
    return baker.texture()


def test_each_side_takes_the_colour_of_the_views_that_saw_it(sphere, atlas):
    colours = painted(sphere)
    views = [photograph(sphere, colours, angle) for angle in np.radians([0, 90, 180, 270])]
    texture, stats = baked(sphere, atlas, views)
    assert stats.views == 4 and stats.seen > 0.85 and stats.filled == 0.0  # the poles: seen through the body
    for view in views:  # the baked sphere looks like the photograph through every camera
        mask, colour = render_textured(sphere, atlas.uv, atlas.uv_faces, texture, view.camera)
        inside = mask & (view.mask > 0)
        error = np.abs(colour[inside].astype(float) - view.image[inside]).mean()
        assert error < 12, error
    back = orbit_camera(sphere, np.pi, square_camera())
    mask, colour = render_textured(sphere, atlas.uv, atlas.uv_faces, texture, back)
    assert np.abs(np.median(colour[mask], axis=0) - BLUE).max() < 20  # the back is blue, not a smear of red


def test_an_occluder_in_one_view_of_five_does_not_smear_in(sphere, atlas):
    colours = painted(sphere)
    views = [photograph(sphere, colours, angle, occluder=(index == 2))
             for index, angle in enumerate(np.radians([-20, -10, 0, 10, 20]))]
    texture, _ = baked(sphere, atlas, views)
    clean = photograph(sphere, colours, 0.0)
    mask, colour = render_textured(sphere, atlas.uv, atlas.uv_faces, texture, clean.camera)
    left = mask & (clean.mask > 0)
    left[:, clean.camera.width // 2:] = False
    error = np.abs(colour[left].astype(float) - clean.image[left]).mean()
    assert error < 8, error  # the occluder's grey is outvoted by the four clean views (a plain mean: ~18)


def test_a_single_view_gives_the_back_its_front_colour(sphere, atlas):
    colours = np.tile(RED, (len(sphere.vertices), 1)).astype(float)
    texture, stats = baked(sphere, atlas, [photograph(sphere, colours, 0.0)])
    assert stats.views == 1 and stats.through > 0.3  # the back: the colour seen through the body
    back = orbit_camera(sphere, np.pi, square_camera())
    mask, colour = render_textured(sphere, atlas.uv, atlas.uv_faces, texture, back)
    assert np.abs(np.median(colour[mask], axis=0) - RED).max() < 20


def test_texels_no_view_reaches_are_filled_smoothly(sphere, atlas):
    colours = painted(sphere)
    view = photograph(sphere, colours, 0.0)
    view.mask[: view.camera.height // 2] = 0  # the upper half of the sphere is outside the person mask
    texture, stats = baked(sphere, atlas, [view])
    assert stats.filled > 0.2
    top = orbit_camera(sphere, 0.0, square_camera())
    mask, colour = render_textured(sphere, atlas.uv, atlas.uv_faces, texture, top)
    assert colour[mask].min(axis=1).max() > 0 and (colour[mask].sum(axis=1) > 60).mean() > 0.99  # no black holes
