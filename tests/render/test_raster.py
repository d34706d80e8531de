"""The rasteriser gives the ray caster's answer: the same pixels, faces, depths and barycentrics."""

from __future__ import annotations

import numpy as np
import trimesh

from humanvid.render.raster import rasterize
from humanvid.render.raycast import cast


def test_rasterising_a_scene_matches_ray_casting_it(sphere, camera):
    box = trimesh.creation.box(extents=(0.3, 0.6, 0.3))
    box.apply_translation([0.25, 0.1, -2.5])  # in front of the sphere: occludes part of it
    scene = trimesh.util.concatenate([sphere, box])
    rays, raster = cast(scene, camera), rasterize(scene.vertices, scene.faces, camera)
    hit = rays.face >= 0
    assert np.array_equal(hit, raster.face >= 0) and hit.sum() > 3000
    assert (rays.face[hit] == raster.face[hit]).mean() > 0.97  # the rest: pixel centres on a shared edge
    np.testing.assert_allclose(raster.depth[hit], rays.depth[hit], atol=1e-4)
    same = hit & (rays.face == raster.face)
    np.testing.assert_allclose(raster.barycentric[same], rays.barycentric[same], atol=1e-6)
    box_faces = raster.face[hit] >= len(sphere.faces)
    assert 0.05 < box_faces.mean() < 0.5  # the box in front wins where it covers the sphere


def test_faces_turned_away_and_behind_the_camera_are_not_drawn(sphere, camera):
    facing = np.einsum("ij,ij->i", sphere.face_normals, camera.position - sphere.triangles_center) > 0
    front = sphere.faces[facing]  # the faces the camera sees from outside
    assert (rasterize(sphere.vertices, front, camera).face >= 0).sum() > 3000
    assert (rasterize(sphere.vertices, front[:, ::-1], camera).face < 0).all()  # turned away: culled
    behind = sphere.vertices * [1, 1, -1]  # the sphere mirrored behind the camera
    assert (rasterize(behind, sphere.faces[:, ::-1], camera).face < 0).all()
