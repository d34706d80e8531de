"""Props (the box a sitting person sits on): drawn in the image, never part of the person's mask or buffers."""

from __future__ import annotations

import numpy as np
import trimesh

from humanvid.camera import Camera
from humanvid.render.shading import Lighting
from humanvid.synth.dataset import seat_for
from humanvid.synth.person import clothed_mesh, make_person
from humanvid.synth.props import Prop, seat_box
from humanvid.synth.render import Appearance, render
from humanvid.synth.textures import Pattern

SIT_SEED = 21  # a still whose random pose is "sit"


def test_seat_box_is_a_closed_box_under_the_seat():
    heads = {"upperleg01.L": np.array([0.1, 0.0, 0.5]), "upperleg01.R": np.array([-0.1, 0.0, 0.5]),
             "lowerleg01.L": np.array([0.1, -0.45, 0.5]), "lowerleg01.R": np.array([-0.1, -0.45, 0.5])}
    rng = np.random.default_rng(0)
    seat = np.column_stack([rng.uniform(-0.15, 0.15, 500), rng.uniform(-0.4, 0.1, 500), rng.uniform(0.42, 0.9, 500)])
    feet = np.array([[0.1, -0.5, 0.02], [-0.1, -0.5, 0.02]])  # in front of the box and below 15 cm: ignored
    box = seat_box(heads, np.concatenate([seat, feet]), np.random.default_rng(1))
    mesh = trimesh.Trimesh(box.vertices, box.faces, process=False)
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    assert box.vertices[:, 2].min() == 0.0
    assert seat[:, 2].min() - 0.002 < box.vertices[:, 2].max() < seat[:, 2].min()
    front = (box.vertices[:, :2] - [0.0, 0.0]) @ np.array([0.0, -1.0])
    assert front.max() < 0.45 and front.min() < 0  # from behind the hips to before the knees
    standing = {k: v * [1, 0, 1] for k, v in heads.items()}  # knees under the hips: no thighs to sit on
    assert seat_box(standing, seat, np.random.default_rng(1)) is None


def test_prop_is_drawn_but_stays_out_of_the_person_buffers():
    person = trimesh.creation.icosphere(subdivisions=4, radius=0.3)
    person.apply_translation([0.0, 0.0, -3.0])
    corners = np.array([[x, y, z] for z in (-2.4, -2.6) for x in (-0.5, 0.5) for y in (-0.6, -0.1)])
    box = trimesh.convex.convex_hull(corners)  # in front of the sphere's lower half
    prop = Prop(np.asarray(box.vertices), np.asarray(box.faces), (0.8, 0.2, 0.1), Pattern())
    camera = Camera(200.0, 200.0, 79.5, 79.5, 160, 160, np.eye(4))
    appearance = Appearance(np.full((len(person.vertices), 3), 0.5))
    lighting = Lighting(shadows=True)
    alone = render(person, camera, appearance, lighting)
    scene = render(person, camera, appearance, lighting, prop=prop)
    hidden = alone.mask & ~scene.mask
    assert hidden.sum() > 200 and not np.any(scene.mask & ~alone.mask)  # the box hides part of the person
    assert np.all(scene.depth[~scene.mask] == 0) and np.all(scene.labels[~scene.mask] == -1)
    reddish = scene.rgb[hidden].astype(int)
    assert np.mean(reddish[:, 0] > reddish[:, 2] + 40) > 0.9  # the box's colour where it hides the person
    assert np.array_equal(scene.depth[scene.mask], alone.depth[scene.mask])


def test_a_sitting_sample_gets_a_box_and_other_poses_none(rig, space):
    person = make_person(rig, space, SIT_SEED)
    assert person.motion == "sit"
    mesh, _ = clothed_mesh(person, 0)
    box = seat_for(rig, person, mesh.vertices, SIT_SEED)
    top = box.vertices[:, 2].max()
    assert 0.3 < top < 0.7  # a seat, in metres above the floor
    corner = box.vertices[0, :2]
    along, across = box.vertices[2, :2] - corner, box.vertices[1, :2] - corner
    relative = mesh.vertices[:, :2] - corner
    u, v = relative @ along / (along @ along), relative @ across / (across @ across)
    over = (u > 0) & (u < 1) & (v > 0) & (v < 1)
    assert over.sum() > 1000 and np.all(mesh.vertices[over, 2] >= top)  # the person sits on it, not in it
    assert seat_for(rig, make_person(rig, space, SIT_SEED, motion="stand"), mesh.vertices, SIT_SEED) is None
