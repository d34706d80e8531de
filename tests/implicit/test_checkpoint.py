"""Checkpoints load safely and fail with one clear message."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from humanvid.errors import HumanvidError
from humanvid.implicit.checkpoint import load_network, save_checkpoint
from humanvid.implicit.network import NetworkConfig, OccupancyNetwork


def test_round_trip(tmp_path):
    network = OccupancyNetwork(NetworkConfig(body_sdf=True, hidden=64))
    save_checkpoint(tmp_path / "net.pt", network, {"step": 7})
    loaded = load_network(tmp_path / "net.pt")
    assert loaded.config == network.config
    for key, value in network.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key])


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch /tmp/humanvid_pwned",))


@pytest.mark.parametrize("content, message", [
    (None, "not found"),
    (b"garbage, not a checkpoint", "unreadable"),
    ("exploit", "unreadable"),
    ("foreign", "not a humanvid occupancy checkpoint"),
])
def test_bad_checkpoints(tmp_path, content, message):
    path = tmp_path / "net.pt"
    if content == "exploit":
        path.write_bytes(pickle.dumps({"format": "humanvid-occupancy-1", "x": Exploit()}))
    elif content == "foreign":
        torch.save({"weights": torch.zeros(3)}, path)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(HumanvidError, match=message):
        load_network(path)
    assert not os.path.exists("/tmp/humanvid_pwned")
