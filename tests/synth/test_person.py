"""Clothed people end to end: determinism, watertightness, body inside the clothes, skirts, clips."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from humanvid.geometry.body_distance import vertex_normals
from humanvid.synth.clothing import Outfit, dress
from humanvid.synth.groundtruth import body_outside_fraction
from humanvid.synth.person import clothed_mesh, make_person
from humanvid.synth.solids import Garment, Material



def mesh_hash(mesh) -> str:
    digest = hashlib.sha256()
    for array in (mesh.vertices, mesh.faces, mesh.labels, mesh.colors, mesh.texcoords):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def body_outside(person, mesh_and_grid) -> float:
    mesh, grid = mesh_and_grid
    vertices, faces = person.posed.vertices[0], person.posed.faces
    used = np.unique(faces)
    return body_outside_fraction(grid, vertices[used], vertex_normals(vertices, faces)[used])


def test_same_seed_same_mesh_and_watertight(rig, space):
    first = make_person(rig, space, 11)
    second = make_person(rig, space, 11)
    a, b = clothed_mesh(first), clothed_mesh(second)
    assert mesh_hash(a[0]) == mesh_hash(b[0])
    assert a[0].trimesh().is_watertight
    assert body_outside(first, a) <= 0.01
    other = make_person(rig, space, 12)
    assert not np.array_equal(other.posed.vertices, first.posed.vertices)


def test_skirt_bridges_the_legs(rig, space):
    person = make_person(rig, space, 3, motion="arms_raised")
    skirt = Garment("skirt", 1, 0.006, seed=5, cut={"length": 1.0, "waist": 0.1, "flare": 0.2, "pleats": 6,
                                                    "pleat_depth": 0.2})
    outfit = Outfit((person.outfit.materials[0], Material("skirt", "garment", (0.6, 0.1, 0.2))), (skirt,))
    person = dataclasses.replace(person, outfit=outfit)
    mesh, grid = clothed_mesh(person)
    assert mesh.trimesh().is_watertight
    assert body_outside(person, (mesh, grid)) <= 0.01
    posed = person.posed
    hips = [posed.bone_poses[0, rig.bone(f"upperleg01.{s}"), :3, 3] for s in "LR"]
    knees = [posed.bone_poses[0, rig.bone(f"lowerleg01.{s}"), :3, 3] for s in "LR"]
    thighs = [hip + 0.4 * (knee - hip) for hip, knee in zip(hips, knees)]  # mid-thigh, under the skirt
    height = float(np.mean([t[2] for t in thighs]))
    # Arms are up, so the slice meets only the skirt: one loop (trousers would give two).
    section = mesh.trimesh().section(plane_origin=[0, 0, height], plane_normal=[0, 0, 1])
    assert len(section.discrete) == 1, "one closed loop around both legs"
    assert np.all(grid.contains(np.array(thighs)))
    assert np.all(mesh.labels[np.abs(mesh.vertices[:, 2] - height) < 0.01] == 1)  # the slice is skirt all round


def test_clip_clothes_move_smoothly(rig, space):
    person = make_person(rig, space, 21, frames=48, motion="walk")
    frames = range(0, 16)
    shells = [[s.vertices for s in dress(person.outfit, person.regions, person.posed, f) if s.layer > 0
               and len(s.vertices) == len(person.posed.vertices[0])] for f in frames]
    garments = np.stack([np.concatenate(frame) for frame in shells])  # (T, N, 3) shell vertices
    body = person.posed.vertices[: len(frames)]
    # The clothes move no faster and jerk no more than the body they hang on.
    for order in (1, 2):
        garment_change = np.linalg.norm(np.diff(garments, order, axis=0), axis=2).max()
        body_change = np.linalg.norm(np.diff(body, order, axis=0), axis=2).max()
        assert garment_change < 1.2 * body_change + 0.005
