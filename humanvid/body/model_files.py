"""Finding and safely reading user-provided SMPL / SMPL-X model files.

The official files cannot be shipped, so the user points `--model-path` at a file or a
folder. Accepted names (case-insensitive):

- SMPL: ``basicModel_neutral_lbs_10_207_0_v1.0.0.pkl``, ``basicmodel_m_lbs_10_207_0_v1.0.0.pkl``,
  ``basicmodel_f_lbs_10_207_0_v1.1.0.pkl`` (any version / shape count), ``SMPL_NEUTRAL.pkl``,
  ``SMPL_MALE.npz``, ...
- SMPL-X: ``SMPLX_NEUTRAL.npz``, ``SMPLX_FEMALE.pkl``, ``SMPLX_NEUTRAL_2020.npz``, ...

in the folder itself or in the usual layouts below it (``models/smpl/``, ``smpl/``,
``smplx/``, ``smpl/models/``, ...; up to four levels deep).

The original SMPL ``.pkl`` files were written with chumpy (an unmaintained package) and
Python 2. They are read here WITHOUT chumpy and without executing anything: a restricted
unpickler admits only numpy array reconstruction, scipy sparse matrices and chumpy's array
objects, each rebuilt from its stored arrays by code of ours. Any other reference in the
file (a function such as ``os.system``, any other class) is refused before it is called.
``.npz`` files are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import io
import os
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from humanvid.errors import HumanvidError

MODEL_KINDS = ("smpl", "smplx")
GENDERS = ("neutral", "male", "female")
_MAX_SEARCH_DEPTH = 4

_NAME_PATTERNS: dict[str, tuple[re.Pattern[str], ...]] = {
    "smpl": (
        re.compile(r"^basicmodel_(neutral|m|f)_lbs_\d+_\d+_\d+_v[\d.]+\.pkl$", re.IGNORECASE),
        re.compile(r"^smpl_(neutral|male|female)\.(pkl|npz)$", re.IGNORECASE),
    ),
    "smplx": (re.compile(r"^smplx_(neutral|male|female)(_\d+)?\.(npz|pkl)$", re.IGNORECASE),),
}
_GENDER_CODES = {"m": "male", "f": "female"}


def _gender_of(file_name: str, kind: str) -> str | None:
    """The gender a file name announces for `kind`, or None when it is not such a file."""
    for pattern in _NAME_PATTERNS[kind]:
        match = pattern.match(file_name)
        if match:
            code = match.group(1).lower()
            return _GENDER_CODES.get(code, code)
    return None


def find_model_file(path: str | os.PathLike, kind: str, gender: str = "neutral") -> Path:
    """The model file to load for `kind` ("smpl" or "smplx") and `gender`.

    A file is returned as is (any name; its content is checked when loaded). In a folder,
    the shallowest file with an official name for that kind and gender wins, ``.npz``
    before ``.pkl`` at the same depth.

    Raises:
        HumanvidError: the path does not exist, or the folder holds no such file (the
            message lists the model files found for other genders, if any).
    """
    if kind not in MODEL_KINDS:
        raise HumanvidError(f"unknown body model {kind!r} (expected one of {', '.join(MODEL_KINDS)})")
    if gender not in GENDERS:
        raise HumanvidError(f"unknown gender {gender!r} (expected one of {', '.join(GENDERS)})")
    path = Path(path).expanduser()
    if not path.exists():
        raise HumanvidError(f"body model path does not exist: {path}")
    if path.is_file():
        return path

    candidates: list[tuple[int, int, str, Path]] = []
    other_genders: list[Path] = []
    for root, directories, files in os.walk(path):
        depth = len(Path(root).relative_to(path).parts)
        if depth >= _MAX_SEARCH_DEPTH:
            directories[:] = []
        directories.sort()
        for file_name in sorted(files):
            found_gender = _gender_of(file_name, kind)
            if found_gender is None:
                continue
            file_path = Path(root) / file_name
            if found_gender == gender:
                extension_rank = 0 if file_name.lower().endswith(".npz") else 1
                candidates.append((depth, extension_rank, file_name, file_path))
            else:
                other_genders.append(file_path)
    if candidates:
        return min(candidates)[3]
    expected = "SMPLX_NEUTRAL.npz" if kind == "smplx" else "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl or SMPL_NEUTRAL.pkl"
    if gender != "neutral":
        expected = f"the {gender} {kind.upper()} model"
    hint = f" (found other genders: {', '.join(p.name for p in other_genders[:3])})" if other_genders else ""
    raise HumanvidError(f"no {gender} {kind.upper()} model file in {path}: expected {expected}{hint}")


def load_model_arrays(path: str | os.PathLike) -> dict[str, Any]:
    """Read a model file (.pkl, chumpy or not, or .npz) into a dict of numpy arrays and
    plain values, never executing code from the file.

    Raises:
        HumanvidError: unreadable, not a model file, or refused (e.g. a pickle that
            references functions or classes other than array data).
    """
    path = Path(path)
    try:
        with open(path, "rb") as file:
            head = file.read(4)
    except OSError as error:
        raise HumanvidError(f"cannot read body model file {path}: {error.strerror or error}") from error
    if head.startswith(b"PK"):
        return _load_npz(path)
    return _load_pickle(path)


def _load_npz(path: Path) -> dict[str, Any]:
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise HumanvidError(f"cannot read body model file {path}: {error}") from error
    arrays: dict[str, Any] = {}
    with archive:
        for key in archive.files:
            try:
                arrays[key] = archive[key]
            except ValueError:
                # Object arrays need pickle; the model entries never do, so skip them.
                continue
            except (OSError, zipfile.BadZipFile) as error:
                raise HumanvidError(f"cannot read body model file {path}: {error}") from error
    return arrays


def _load_pickle(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
        loaded = RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
    except RefusedPickleError as error:
        raise HumanvidError(f"refusing to load body model file {path}: {error}") from error
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError, MemoryError) as error:
        raise HumanvidError(f"cannot read body model file {path}: not a valid model pickle ({error})") from error
    if not isinstance(loaded, dict):
        raise HumanvidError(f"cannot read body model file {path}: expected a dict of arrays, found {type(loaded).__name__}")
    return {str(key): _plain(value) for key, value in loaded.items()}


class RefusedPickleError(pickle.UnpicklingError):
    """The pickle references something other than array data."""


class ChumpyStandIn:
    """Takes the place of a chumpy object while unpickling: stores its state, runs nothing.
    `array()` gives the numpy array of a plain chumpy array (`Ch`), None for expressions."""

    chumpy_class = "Ch"

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def array(self) -> np.ndarray | None:
        state = getattr(self, "state", None)
        if isinstance(state, dict) and isinstance(state.get("x"), np.ndarray):
            return state["x"]
        return None


class SparseStandIn:
    """Takes the place of a scipy sparse matrix while unpickling; `array()` rebuilds it
    densely from its (data, indices, indptr, shape) arrays."""

    sparse_format = "csc"

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def array(self) -> np.ndarray | None:
        import scipy.sparse

        state = getattr(self, "state", None)
        if not isinstance(state, dict):
            return None
        shape = state.get("_shape", state.get("shape"))
        parts = [state.get(name) for name in ("data", "indices", "indptr")]
        if shape is None or not all(isinstance(part, np.ndarray) for part in parts):
            return None
        builder = scipy.sparse.csr_matrix if self.sparse_format == "csr" else scipy.sparse.csc_matrix
        return np.asarray(builder(tuple(parts), shape=tuple(int(n) for n in shape)).toarray())


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler whose `find_class` only admits array data (see module docstring).

    Each instance creates its own stand-in subclasses, so nothing is shared between loads.
    """

    def __init__(self, file: io.BytesIO, *, encoding: str = "latin1") -> None:
        super().__init__(file, encoding=encoding)
        self._stand_ins: dict[tuple[str, str], type] = {}

    def find_class(self, module: str, name: str) -> Any:
        allowed = _allowed_global(module, name)
        if allowed is not None:
            return allowed
        if module == "chumpy" or module.startswith("chumpy."):
            return self._stand_in(module, name, ChumpyStandIn, "chumpy_class")
        if module.startswith("scipy.sparse") and name in ("csc_matrix", "csr_matrix"):
            return self._stand_in(module, name, SparseStandIn, "sparse_format")
        if (module, name) in (("copy_reg", "_reconstructor"), ("copyreg", "_reconstructor")):
            return self._reconstruct_stand_in
        raise RefusedPickleError(f"it references {module}.{name}, which is not array data")

    def _stand_in(self, module: str, name: str, base: type, attribute: str) -> type:
        key = (module, name)
        if key not in self._stand_ins:
            value = name if base is ChumpyStandIn else name[:3]
            self._stand_ins[key] = type(f"{base.__name__}_{name}", (base,), {attribute: value})
        return self._stand_ins[key]

    def _reconstruct_stand_in(self, cls: Any, base: Any, state: Any) -> Any:
        """copyreg._reconstructor for protocol-0/1 pickles, restricted to our stand-ins."""
        if base is not object or not (isinstance(cls, type) and cls in self._stand_ins.values()):
            raise RefusedPickleError("it reconstructs an object that is not array data")
        return object.__new__(cls)


def _allowed_global(module: str, name: str) -> Any:
    numpy_core = ("numpy.core.multiarray", "numpy._core.multiarray")
    if module in numpy_core and name in ("_reconstruct", "scalar"):
        multiarray = _numpy_multiarray()
        return getattr(multiarray, name)
    if module == "numpy" and name in ("ndarray", "dtype"):
        return getattr(np, name)
    if module in ("__builtin__", "builtins") and name in ("object", "set", "frozenset", "slice", "complex"):
        return {"object": object, "set": set, "frozenset": frozenset, "slice": slice, "complex": complex}[name]
    if module == "collections" and name == "OrderedDict":
        return dict
    if module == "_codecs" and name == "encode":
        # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(text, "latin1").
        return _latin1_bytes
    return None


def _latin1_bytes(text: Any, encoding: Any = "latin1") -> bytes:
    if not isinstance(text, str) or str(encoding).lower().replace("-", "") != "latin1":
        raise RefusedPickleError("it encodes data with something other than latin-1")
    return text.encode("latin1")


def _numpy_multiarray() -> Any:
    try:
        from numpy._core import multiarray  # numpy >= 2
    except ImportError:
        from numpy.core import multiarray
    return multiarray


def _plain(value: Any) -> Any:
    """Replace stand-ins by their arrays (leave unconvertible ones, e.g. chumpy expressions,
    as None: no model entry we read is one)."""
    if isinstance(value, (ChumpyStandIn, SparseStandIn)):
        return value.array()
    return value
