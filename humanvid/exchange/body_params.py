"""`body/params.npz`: the fitted body parameters of a video (DESIGN.md output contract).

Arrays: `model` (the body model name), `shape` (1, S), `pose` (T, P, 3), `global_orient`
(T, 3), `translation` (T, 3), `frames` (T,) source frame indices, `observed` (T,) whether
MediaPipe saw the person in that frame, `pose_joint_names` (P,), `shape_names` (S,).
Written atomically.
"""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import numpy as np
import torch

from humanvid import atomic
from humanvid.body.model import BodyModel, BodyParams
from humanvid.errors import HumanvidError


@dataclasses.dataclass
class SavedBodyParams:
    model: str
    params: BodyParams
    frames: np.ndarray
    observed: np.ndarray
    pose_joint_names: tuple[str, ...]
    shape_names: tuple[str, ...]


def save_body_params(
    path: str | Path, body: BodyModel, params: BodyParams, frames: np.ndarray, observed: np.ndarray
) -> None:
    """Write a video's parameters (the shape must be the single shared row)."""
    if params.shape.shape[0] != 1:
        raise ValueError("save_body_params expects one shared shape row")
    as_numpy = lambda tensor: tensor.detach().cpu().numpy().astype(np.float32)  # noqa: E731
    atomic.write_npz(
        path,
        model=np.array(body.name),
        shape=as_numpy(params.shape),
        pose=as_numpy(params.pose),
        global_orient=as_numpy(params.global_orient),
        translation=as_numpy(params.translation),
        frames=np.asarray(frames, dtype=np.int64),
        observed=np.asarray(observed, dtype=bool),
        pose_joint_names=np.array(body.pose_joint_names),
        shape_names=np.array(body.shape_names),
    )


def load_body_params(path: str | Path, dtype: torch.dtype = torch.float32) -> SavedBodyParams:
    """Read `body/params.npz`. Raises HumanvidError if it is missing or malformed."""
    try:
        with np.load(path, allow_pickle=False) as data:
            tensor = lambda key: torch.as_tensor(data[key], dtype=dtype)  # noqa: E731
            params = BodyParams(tensor("global_orient"), tensor("translation"), tensor("pose"), tensor("shape"))
            return SavedBodyParams(
                model=str(data["model"]),
                params=params,
                frames=data["frames"],
                observed=data["observed"],
                pose_joint_names=tuple(str(name) for name in data["pose_joint_names"]),
                shape_names=tuple(str(name) for name in data["shape_names"]),
            )
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise HumanvidError(f"cannot read body parameters {path}: {error}") from error
