"""Finding and reading SMPL / SMPL-X files: official names and layouts, chumpy pickles
without chumpy, malicious pickles refused. All files are built by the tests."""

import pickle
import sys

import numpy as np
import pytest

from body.body_test_files import chumpy_style_pickle, malicious_pickle, tiny_smpl_arrays
from humanvid.body.model_files import find_model_file, load_model_arrays
from humanvid.errors import HumanvidError


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    "relative",
    [
        "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl",
        "models/smpl/SMPL_NEUTRAL.pkl",
        "smpl/models/basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl",
        "smpl/SMPL_NEUTRAL.npz",
        "SMPL_python_v.1.1.0/smpl/models/basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl",
    ],
)
def test_finds_official_smpl_names_and_layouts(tmp_path, relative):
    expected = _touch(tmp_path / relative)
    _touch(tmp_path / "smplx" / "SMPLX_NEUTRAL.npz")
    assert find_model_file(tmp_path, "smpl") == expected


def test_finds_smplx_and_genders(tmp_path):
    _touch(tmp_path / "models" / "smplx" / "SMPLX_NEUTRAL.pkl")
    npz = _touch(tmp_path / "models" / "smplx" / "SMPLX_NEUTRAL.npz")
    female = _touch(tmp_path / "models" / "smplx" / "SMPLX_FEMALE.npz")
    male = _touch(tmp_path / "smpl" / "basicmodel_m_lbs_10_207_0_v1.0.0.pkl")
    assert find_model_file(tmp_path, "smplx") == npz  # .npz before .pkl
    assert find_model_file(tmp_path, "smplx", gender="female") == female
    assert find_model_file(tmp_path, "smpl", gender="male") == male
    assert find_model_file(male, "smpl") == male  # a file is taken as given


def test_missing_or_empty_locations_explain_themselves(tmp_path):
    with pytest.raises(HumanvidError, match="does not exist"):
        find_model_file(tmp_path / "nowhere", "smpl")
    _touch(tmp_path / "basicmodel_f_lbs_10_207_0_v1.0.0.pkl")
    with pytest.raises(HumanvidError, match=r"no neutral SMPL model file .*found other genders: basicmodel_f"):
        find_model_file(tmp_path, "smpl")
    with pytest.raises(HumanvidError, match="unknown body model"):
        find_model_file(tmp_path, "mano")


def _same_arrays(loaded, arrays):
    for key in ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f"):
        assert isinstance(loaded[key], np.ndarray), key
        np.testing.assert_allclose(loaded[key], arrays[key], err_msg=key)


def test_plain_pickle_and_npz(tmp_path):
    arrays = tiny_smpl_arrays()
    (tmp_path / "plain.pkl").write_bytes(pickle.dumps(arrays, protocol=4))
    _same_arrays(load_model_arrays(tmp_path / "plain.pkl"), arrays)
    np.savez(tmp_path / "model.npz", **{k: v for k, v in arrays.items() if isinstance(v, np.ndarray)}, names=np.array([{"a": 1}], dtype=object))
    loaded = load_model_arrays(tmp_path / "model.npz")
    _same_arrays(loaded, arrays)
    assert "names" not in loaded  # object arrays would need pickle: skipped


@pytest.mark.parametrize("protocol", [0, 2])
def test_chumpy_pickle_loads_without_chumpy(tmp_path, monkeypatch, protocol):
    arrays = tiny_smpl_arrays()
    path = tmp_path / "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl"
    path.write_bytes(chumpy_style_pickle(arrays, protocol=protocol))
    assert b"chumpy.ch" in path.read_bytes() and b"scipy.sparse" in path.read_bytes()
    monkeypatch.setitem(sys.modules, "chumpy", None)  # any import of chumpy would now fail
    loaded = load_model_arrays(path)
    _same_arrays(loaded, arrays)
    np.testing.assert_allclose(loaded["J"], arrays["J_regressor"] @ arrays["v_template"])


def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    path.write_bytes(malicious_pickle(str(marker)))
    with pytest.raises(HumanvidError, match=r"refusing to load .*system.*not array data"):
        load_model_arrays(path)
    assert not marker.exists()


class _Evaluates:
    def __reduce__(self):
        return (eval, ("__import__('os').getcwd()",))


class _Reconstructs:
    """A protocol-0 object reconstructed via copyreg._reconstructor with a foreign class."""


@pytest.mark.parametrize(
    "payload",
    [
        pickle.dumps({"v_template": _Evaluates()}, protocol=2),
        pickle.dumps({"v_template": _Reconstructs()}, protocol=0),
        pickle.dumps({"v_template": np.zeros(3), "x": type}, protocol=2),
        # copy_reg._reconstructor(set, object, None): only our stand-ins may be rebuilt so.
        b"(dp0\nVx\np1\nccopy_reg\n_reconstructor\np2\n(c__builtin__\nset\nc__builtin__\nobject\nNtRp3\ns.",
    ],
    ids=["eval", "foreign-class", "builtin-type", "reconstructor"],
)
def test_other_code_references_are_refused(tmp_path, payload):
    path = tmp_path / "model.pkl"
    path.write_bytes(payload)
    with pytest.raises(HumanvidError, match="refusing to load"):
        load_model_arrays(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"this is not a pickle at all", "not a valid model pickle"),
        (pickle.dumps(tiny_smpl_arrays(), protocol=2)[:500], "not a valid model pickle"),
        (pickle.dumps([1, 2, 3], protocol=2), "expected a dict"),
        (b"PK\x03\x04broken zip", "cannot read"),
    ],
    ids=["text", "truncated", "list", "broken-npz"],
)
def test_corrupt_files_give_one_clear_error(tmp_path, content, message):
    path = tmp_path / "model.pkl"
    path.write_bytes(content)
    with pytest.raises(HumanvidError, match=message) as error:
        load_model_arrays(path)
    assert "\n" not in str(error.value)
