"""Body models: one interface (model.py), Anny by default, SMPL / SMPL-X from user files,
and fitting them to a video's MediaPipe landmarks.

>>> from humanvid.body import create_body_model
>>> body = create_body_model("anny")
>>> output = body(body.neutral_params(batch_size=2))   # BodyOutput, output frame, metres

Modules: model.py (BodyParams, BodyOutput, BodyModel), anny_model.py / anny_pose.py /
anny_keypoints.py (Anny), smpl_model.py / smpl_pose.py / model_files.py (SMPL, SMPL-X),
keypoint_map.py (MediaPipe's 33 landmarks from each model's keypoints), priors.py, rotations.py,
skinning.py, frames.py; fitting: world_landmarks.py and limb_correction.py (what the fit follows),
initialization.py, fitting.py / fitting_losses.py / silhouette.py, temporal_filter.py.
"""

from __future__ import annotations

import os

import torch

from humanvid.body.fitting import BodyFit, FitSettings, KeypointObservations, fit_body_sequence
from humanvid.body.model import BodyModel, BodyOutput, BodyParams
from humanvid.body.silhouette import SilhouetteObservations, silhouette_targets
from humanvid.errors import HumanvidError
from humanvid.landmarks import MEDIAPIPE_LANDMARKS

BODY_MODEL_NAMES = ("anny", "smpl", "smplx")

__all__ = [
    "BODY_MODEL_NAMES",
    "MEDIAPIPE_LANDMARKS",
    "BodyFit",
    "BodyModel",
    "BodyOutput",
    "BodyParams",
    "FitSettings",
    "KeypointObservations",
    "SilhouetteObservations",
    "create_body_model",
    "fit_body_sequence",
    "silhouette_targets",
]


def create_body_model(
    name: str = "anny",
    model_path: str | os.PathLike | None = None,
    gender: str = "neutral",
    dtype: torch.dtype = torch.float32,
) -> BodyModel:
    """Build a body model by name.

    Args:
        name: "anny" (no files needed), "smpl" or "smplx" (need `model_path`).
        model_path: SMPL / SMPL-X model file or folder (ignored for Anny).
        gender: SMPL / SMPL-X gender file to pick ("neutral", "male", "female").
    Raises:
        HumanvidError: unknown name, missing `model_path`, or bad model files.
    """
    if name == "anny":
        from humanvid.body.anny_model import create_anny_body

        return create_anny_body(dtype=dtype)
    if name in ("smpl", "smplx"):
        if model_path is None:
            raise HumanvidError(
                f"--body-model {name} needs --model-path pointing at the {name.upper()} model file or folder "
                "(registration at smpl.is.tue.mpg.de / smpl-x.is.tue.mpg.de)"
            )
        from humanvid.body.smpl_model import load_smpl_body

        return load_smpl_body(model_path, kind=name, gender=gender, dtype=dtype)
    raise HumanvidError(f"unknown body model {name!r} (expected one of {', '.join(BODY_MODEL_NAMES)})")
