"""Builders of small SMPL-format model files for the tests (never real SMPL data).

The tiny "SMPL" has the real kinematic tree (24 joints) and two vertices per joint,
placed at plausible T-pose positions and skinned rigidly to their joint, so that the
joint regressor returns the joints exactly and posing moves the right vertices.
"""

from __future__ import annotations

import contextlib
import pickle
import sys
import types

import numpy as np

SMPL_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]

# T-pose joint positions (metres, SMPL axes: x left, y up, z front), roughly SMPL's.
SMPL_JOINTS = np.array(
    [
        [0.0, -0.22, 0.02], [0.06, -0.31, 0.01], [-0.06, -0.31, 0.01], [0.0, -0.11, -0.01],
        [0.11, -0.69, 0.01], [-0.11, -0.69, 0.01], [0.0, 0.02, 0.02], [0.07, -1.09, -0.03],
        [-0.07, -1.09, -0.03], [0.0, 0.07, 0.02], [0.12, -1.15, 0.09], [-0.12, -1.15, 0.09],
        [0.0, 0.29, -0.01], [0.08, 0.2, 0.0], [-0.08, 0.2, 0.0], [0.0, 0.36, 0.04],
        [0.2, 0.23, -0.01], [-0.2, 0.23, -0.01], [0.45, 0.21, -0.03], [-0.45, 0.21, -0.03],
        [0.71, 0.22, -0.03], [-0.71, 0.22, -0.03], [0.8, 0.21, -0.02], [-0.8, 0.21, -0.02],
    ]
)


def tiny_smpl_arrays(num_betas: int = 10, seed: int = 0, joints: int = 24) -> dict[str, np.ndarray]:
    """The entries of an SMPL .pkl with 2 vertices per joint (V = 2 * joints)."""
    rng = np.random.default_rng(seed)
    positions = SMPL_JOINTS if joints == 24 else rng.normal(size=(joints, 3)) * 0.3
    parents = SMPL_PARENTS if joints == 24 else [-1] + [int(rng.integers(0, j)) for j in range(1, joints)]
    offsets = np.array([[0.0, 0.0, 0.02], [0.0, 0.0, -0.02]])
    template = (positions[:, None, :] + offsets[None]).reshape(-1, 3)
    vertex_count = template.shape[0]
    owner = np.repeat(np.arange(joints), 2)
    weights = np.zeros((vertex_count, joints))
    weights[np.arange(vertex_count), owner] = 1.0
    regressor = weights.T / 2.0
    faces = np.array([[2 * j, 2 * j + 1, (2 * j + 2) % vertex_count] for j in range(joints)], dtype=np.uint32)
    kintree = np.array([parents, list(range(joints))], dtype=np.int64)
    kintree[0, 0] = 4294967295  # as in the official files (uint32 -1)
    return {
        "v_template": template,
        "shapedirs": rng.normal(scale=0.01, size=(vertex_count, 3, num_betas)),
        "posedirs": rng.normal(scale=0.001, size=(vertex_count, 3, (joints - 1) * 9)),
        "J_regressor": regressor,
        "weights": weights,
        "kintree_table": kintree,
        "f": faces,
        "bs_type": "lrotmin",
        "bs_style": "lbs",
    }


@contextlib.contextmanager
def fake_chumpy_module():
    """A stand-in `chumpy` package in sys.modules, only while pickling in a test.

    Its `Ch` pickles like chumpy's: the object's __dict__ minus caches, the array in 'x'.
    """
    package = types.ModuleType("chumpy")
    module = types.ModuleType("chumpy.ch")

    class Ch:
        def __init__(self, x):
            self.x = np.asarray(x)
            self._dirty_vars = set()
            self._itr = None
            self._depends_on_deps = {}
            self._make_dense = False
            self._make_sparse = False

    Ch.__module__ = "chumpy.ch"
    Ch.__qualname__ = "Ch"
    module.Ch = Ch
    package.ch = module
    saved = {name: sys.modules.get(name) for name in ("chumpy", "chumpy.ch")}
    sys.modules["chumpy"] = package
    sys.modules["chumpy.ch"] = module
    try:
        yield Ch
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous


def chumpy_style_pickle(arrays: dict[str, np.ndarray], protocol: int = 2) -> bytes:
    """Pickle like the official SMPL files: chumpy arrays for v_template, shapedirs, J and
    weights, a scipy CSC matrix for J_regressor, plain numpy for the rest."""
    import scipy.sparse

    with fake_chumpy_module() as Ch:
        data = dict(arrays)
        for key in ("v_template", "shapedirs", "weights"):
            data[key] = Ch(arrays[key])
        data["J"] = Ch(arrays["J_regressor"] @ arrays["v_template"])
        data["J_regressor"] = scipy.sparse.csc_matrix(arrays["J_regressor"])
        return pickle.dumps(data, protocol=protocol)


class _RunsShell:
    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        import os

        return (os.system, (self.command,))


def malicious_pickle(marker_path: str) -> bytes:
    """A model-looking pickle whose loading would run a shell command creating `marker_path`."""
    data = tiny_smpl_arrays()
    data["payload"] = _RunsShell(f"touch {marker_path}")
    return pickle.dumps(data, protocol=2)
