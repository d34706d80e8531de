"""Signed distance to a body mesh: the body-SDF feature of the network."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from humanvid.geometry.body_distance import BodySurface, vertex_normals

RADIUS = 0.3


@pytest.fixture(scope="module")
def sphere():
    mesh = trimesh.creation.icosphere(subdivisions=5, radius=RADIUS)  # vertices ~1 cm apart
    return BodySurface(mesh.vertices + [0.1, 0.2, -2.0], mesh.faces), np.array([0.1, 0.2, -2.0])


def test_normals_point_outward():
    mesh = trimesh.creation.icosphere(subdivisions=3)
    normals = vertex_normals(mesh.vertices, mesh.faces)
    assert np.allclose(np.linalg.norm(normals, axis=1), 1.0)
    assert np.einsum("ij,ij->i", normals, mesh.vertices / np.linalg.norm(mesh.vertices, axis=1)[:, None]).min() > 0.99


def test_signed_distance_of_a_sphere(sphere):
    surface, centre = sphere
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(2000, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    radii = rng.uniform(0.02, 0.6, 2000)  # inside, near and far beyond the 10 cm first search
    distance = surface.signed_distance(centre + directions * radii[:, None])
    assert np.all(np.sign(distance) == np.sign(radii - RADIUS))
    assert np.abs(distance - (radii - RADIUS)).max() < 0.01  # the nearest vertex, not the nearest point



def test_lattice_interpolates_the_clamped_distance(sphere):
    surface, centre = sphere
    lattice = surface.lattice(centre - 0.45, centre + 0.45, spacing=0.03, limit=0.1)
    rng = np.random.default_rng(1)
    directions = rng.normal(size=(3000, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    radii = rng.uniform(0.0, 0.7, 3000)  # deep inside (beyond the limit), near the surface, outside, beyond the box
    # (0.16 m = the limit + a lattice cell diagonal: interpolation there reads only far nodes)
    points = centre + directions * radii[:, None]
    read = lattice.signed_distance(points)
    truth = np.clip(radii - RADIUS, -0.1, 0.1)
    assert np.abs(read - truth).max() < 0.01
    assert np.allclose(read[radii < RADIUS - 0.16], -0.1, atol=1e-4)  # enclosed far nodes: inside
    assert np.allclose(read[radii > RADIUS + 0.16], 0.1, atol=1e-4)  # far nodes reaching the border: outside
