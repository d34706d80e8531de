import numpy as np
import pytest
import torch

from humanvid.exchange.body_params import load_body_params, save_body_params
from humanvid.errors import HumanvidError


def test_params_round_trip(anny_body, tmp_path):
    params = anny_body.neutral_params(3)
    params.pose = anny_body.pose_prior.sample(3, torch.Generator().manual_seed(0))
    params.translation[:, 2] = -3.0
    path = tmp_path / "body" / "params.npz"
    save_body_params(path, anny_body, params, frames=np.array([0, 2, 4]), observed=np.array([True, False, True]))
    saved = load_body_params(path)
    assert saved.model == "anny" and saved.frames.tolist() == [0, 2, 4]
    assert saved.observed.tolist() == [True, False, True]
    assert saved.pose_joint_names == anny_body.pose_joint_names and saved.shape_names == anny_body.shape_names
    for name in ("pose", "shape", "global_orient", "translation"):
        assert torch.allclose(getattr(saved.params, name), getattr(params, name))


def test_bad_params_file(tmp_path):
    (tmp_path / "params.npz").write_bytes(b"garbage")
    with pytest.raises(HumanvidError, match="cannot read body parameters"):
        load_body_params(tmp_path / "params.npz")
    with pytest.raises(HumanvidError, match="cannot read body parameters"):
        load_body_params(tmp_path / "missing.npz")
