"""Several synthetic people in one render: placement, who hides whom, each person's pixels, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from humanvid.constants import DEFAULT_VERTICAL_FOV_DEG
from humanvid.synth.group import Group, Shot, Spot, group_meshes, render_group

# A neighbour 1 m behind the main person and 0.6 m to their right (the camera's), partly hidden by them.
GROUP = Group((Spot(11), Spot(12, 0.6, 1.0)), Shot(width=320, height=180, distance=3.2), background_seed=1)


@pytest.fixture(scope="module")
def meshes(rig, space):
    return group_meshes(rig, space, GROUP, voxel=0.01)


def test_each_person_stands_on_their_spot(meshes):
    for mesh, spot in zip(meshes, GROUP.spots):
        low, high = mesh.vertices.min(axis=0), mesh.vertices.max(axis=0)
        assert np.allclose(0.5 * (low[:2] + high[:2]), (spot.x, spot.depth), atol=1e-9)
        assert abs(low[2]) < 0.02 and 1.3 < high[2] < 2.1  # on the floor, a person's height


def test_each_persons_pixels_and_who_hides_whom(meshes):
    rendering = render_group(meshes, GROUP)
    visible, whole = rendering.visible, rendering.whole
    assert rendering.people == 2 and rendering.main == 0 and rendering.rgb.shape == (180, 320, 3)
    assert not (visible[0] & visible[1]).any()  # a pixel shows one person
    assert not (visible & ~whole).any()
    assert (visible[0] == whole[0]).all()  # the main person is in front: all of them is seen
    hidden = 1 - visible[1].sum() / whole[1].sum()
    assert 0.03 < hidden < 0.5  # the neighbour is partly behind them
    columns = [np.nonzero(v)[1].mean() for v in visible]
    assert columns[0] < columns[1]  # the neighbour is to the right
    assert not (rendering.only(1) & whole[0]).any() and rendering.only(1).sum() > 0.5 * visible[1].sum()
    # the camera is humanvid's default for a video: the reconstruction's meshes overlay the render
    assert rendering.camera.vertical_fov_deg == pytest.approx(DEFAULT_VERTICAL_FOV_DEG)


def test_the_same_group_renders_the_same_pixels(rig, space, meshes):
    first, second = render_group(meshes, GROUP), render_group(group_meshes(rig, space, GROUP, voxel=0.01), GROUP)
    assert np.array_equal(first.rgb, second.rgb) and np.array_equal(first.visible, second.visible)
    other = render_group(meshes, Group(GROUP.spots, GROUP.shot, background_seed=2))
    assert not np.array_equal(first.rgb, other.rgb)
