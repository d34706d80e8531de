"""Loose garments: closed solids that stand away from the body, hems that swing, the loose outfit sampler."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from humanvid.evaluation.metrics import chamfer_distance
from humanvid.synth.bodies import BodySpec
from humanvid.synth.drape import hem_hang, hood_up_solid, wide_leg_solids
from humanvid.synth.hair import head_centre
from humanvid.synth.loose import sample_loose_outfit
from humanvid.synth.person import clothed_mesh, make_person
from humanvid.synth.skirts import Hang, skirt_solid
from humanvid.synth.solids import LAYERS, Garment
from humanvid.synth.splits import seed_block

LOOSE_KINDS = {"dress", "skirt", "coat", "puffer", "wide_trousers"}


@pytest.fixture(scope="module")
def standing(rig, space):
    return make_person(rig, space, 3, motion="stand")


def closed(solid) -> trimesh.Trimesh:
    mesh = trimesh.Trimesh(solid.vertices, solid.faces, process=True)
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    return mesh


def test_loose_sample_is_watertight_and_stands_off_the_body(rig, space):
    person = make_person(rig, space, seed_block("loose-test").seed(4))  # a dress and voluminous hair
    assert person.family == "loose" and {g.kind for g in person.outfit.garments} & LOOSE_KINDS
    mesh, grid = clothed_mesh(person)
    clothed = mesh.trimesh()
    assert clothed.is_watertight
    body = trimesh.Trimesh(person.posed.vertices[0], person.posed.faces, process=False)
    assert chamfer_distance(body, clothed, count=4000) > 5.0  # cm


def test_open_coat_is_a_closed_band_open_at_the_front(standing):
    coat = Garment("coat", 1, 0.02, seed=4, cut={"length": 1.6, "flare": 0.2, "max_flare": 0.3, "cover": 1.9,
                                                 "gap": 0.8, "swing": True})
    vertices = standing.posed.vertices[0]
    mesh = closed(skirt_solid(coat, standing.regions, vertices, hang=Hang(np.zeros(2), front=-np.pi / 2)))
    assert mesh.bounds[0, 2] >= 0.0  # the hem stops above the floor
    knees = vertices[np.abs(standing.regions.leg_coord - 1.0) < 0.05]
    ahead = np.arange(0.0, 0.4, 0.005)[:, None] * [0.0, 1.0, 0.0]  # rays away from the knees, 5 mm steps
    front = knees.mean(axis=0) * [1, 0, 1] + [0, knees[:, 1].min(), 0] - ahead
    back = knees.mean(axis=0) * [1, 0, 1] + [0, knees[:, 1].max(), 0] + ahead
    assert not mesh.contains(front).any()  # open: the front of the knees shows
    assert mesh.contains(back).any()  # the coat hangs behind them


def test_wide_trouser_legs_flare_towards_the_hem(standing):
    trousers = Garment("wide_trousers", 1, 0.012, cut={"leg": 1.95, "from": 0.9, "flare": 0.08})
    tubes = [closed(solid) for solid in wide_leg_solids(trousers, standing.regions, standing.posed.vertices[0])]
    assert len(tubes) == 2
    for tube in tubes:
        z = tube.vertices[:, 2]
        top, hem = tube.vertices[z > z.max() - 0.02], tube.vertices[z < z.min() + 0.02]
        width = lambda ring: np.ptp(ring[:, 0]) + np.ptp(ring[:, 1])
        assert width(hem) > width(top) + 0.1


def test_raised_hood_covers_the_head_but_not_the_face(standing):
    hoodie = Garment("hoodie", 1, 0.03, cut={"hood": "up", "hood_thickness": 0.035})
    regions, posed = standing.regions, standing.posed
    normals = trimesh.Trimesh(posed.vertices[0], posed.faces, process=False).vertex_normals
    solid = hood_up_solid(hoodie, regions, posed, 0, normals, np.zeros(len(regions.rest)))
    closed(solid)
    q = regions.rest - head_centre(regions)
    head = regions.head > 0.5
    crown = np.argmax(np.where(head, regions.rest[:, 2], -np.inf))
    nose = np.argmin(np.where(head & (np.abs(q[:, 2]) < 0.05), q[:, 1], np.inf))
    assert solid.coverage[crown] > 0 > solid.coverage[nose]
    assert solid.layer > LAYERS["hair"]  # over the hair


def test_hem_trails_a_walking_body_and_hangs_straight_in_a_still(rig, space, standing):
    walking = make_person(rig, space, 3, frames=12, motion="walk")  # walking towards −y
    hang = hem_hang(walking.regions, walking.posed, 11)
    assert hang.swing[1] > 0.01 and np.linalg.norm(hang.swing) <= 0.1 + 1e-9
    assert hang.front == pytest.approx(-np.pi / 2, abs=0.3)
    still = hem_hang(standing.regions, standing.posed, 0)
    assert not np.any(still.swing) and still.spin == 0.0


def test_loose_outfits_are_mostly_loose():
    body = BodySpec((0.8, 0.7, 0.5, 0.5, 0.5, 0.5), (0.7, 0.5, 0.4))
    outfits = [sample_loose_outfit(np.random.default_rng(seed), body, "stand") for seed in range(40)]
    loose = [any(g.kind in LOOSE_KINDS or g.cut.get("hood") == "up" for g in outfit.garments) for outfit in outfits]
    assert np.mean(loose) >= 0.8
    hanging = [g for outfit in outfits for g in outfit.garments if g.kind in ("dress", "skirt", "coat")]
    assert hanging and all(g.cut["swing"] and g.cut["cover"] > 1.0 for g in hanging)
    bent = [sample_loose_outfit(np.random.default_rng(seed), body, "bend") for seed in range(40)]
    assert not any(g.kind in ("dress", "skirt", "coat") for outfit in bent for g in outfit.garments)
