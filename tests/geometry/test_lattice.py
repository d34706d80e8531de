import numpy as np
import pytest

from humanvid.geometry.lattice import trilinear


def linear_lattice():
    origin, spacing = np.array([0.2, -0.5, -2.0]), 0.05
    index = np.stack(np.meshgrid(*[np.arange(n) for n in (6, 9, 4)], indexing="ij"), -1)
    positions = origin + spacing * index
    values = (positions @ np.array([1.0, -2.0, 0.5]) + 3.0).astype(np.float32)
    return values, origin, spacing


def test_trilinear_reproduces_a_linear_field_between_nodes():
    values, origin, spacing = linear_lattice()
    points = origin + np.random.default_rng(0).uniform(0.0, 1.0, (500, 3)) * spacing * (np.array(values.shape) - 1)
    expected = points @ np.array([1.0, -2.0, 0.5]) + 3.0
    for outside in ("zero", "border"):
        assert np.allclose(trilinear(values, origin, spacing, points, outside), expected, atol=1e-4)


def test_points_beyond_the_lattice_read_zero_or_the_nearest_node():
    values, origin, spacing = linear_lattice()
    far = origin + np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    assert np.all(trilinear(values, origin, spacing, far, "zero") == 0.0)
    nearest = np.array([values[0, 0, 0], values[0, 0, -1]])
    assert np.allclose(trilinear(values, origin, spacing, far, "border"), nearest, atol=1e-5)


def test_bad_lattices_and_modes_are_refused():
    values, origin, spacing = linear_lattice()
    with pytest.raises(ValueError, match="two nodes"):
        trilinear(values[:1], origin, spacing, origin[None])
    with pytest.raises(ValueError, match="outside"):
        trilinear(values, origin, spacing, origin[None], "wrap")
