"""Checkpoints load safely and fail with one clear message."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch
from helpers import REPO

from humanvid.errors import HumanvidError
from humanvid.implicit.model.checkpoint import load_network, save_checkpoint
from humanvid.implicit.model.network import NetworkConfig, OccupancyNetwork


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


def test_shipped_checkpoint_is_found_in_a_checkout_or_an_installed_prefix(tmp_path):
    """A source checkout (or editable install) reads checkpoints/; a wheel install reads <prefix>/share/humanvid/."""
    import sysconfig

    from humanvid.implicit.model.checkpoint import (
        DEFAULT_CHECKPOINT,
        SHIPPED_NAME,
        shipped_checkpoint,
        shipped_checkpoint_candidates,
    )

    candidates = shipped_checkpoint_candidates()
    assert candidates[0].parent.name == "checkpoints" and DEFAULT_CHECKPOINT == candidates[0]  # this checkout
    installed = Path(sysconfig.get_path("data")) / "share" / "humanvid" / SHIPPED_NAME
    assert installed in candidates
    missing, present = tmp_path / "checkout" / SHIPPED_NAME, tmp_path / "share" / "humanvid" / SHIPPED_NAME
    present.parent.mkdir(parents=True)
    present.write_bytes(DEFAULT_CHECKPOINT.read_bytes())
    assert shipped_checkpoint([missing, present]) == present
    assert shipped_checkpoint([missing]) == missing  # nothing found: the error will name the checkout path
    pyproject = (REPO / "pyproject.toml").read_text()
    assert f'"share/humanvid" = ["checkpoints/{SHIPPED_NAME}"' in pyproject  # what a wheel installs there


def test_a_bare_shipped_name_finds_the_shipped_network(tmp_path, monkeypatch):
    from humanvid.implicit.model.checkpoint import DEFAULT_CHECKPOINT, read_checkpoint, resolve_checkpoint

    monkeypatch.chdir(tmp_path)  # no such file here: the name is looked up among the shipped checkpoints
    shipped = resolve_checkpoint("occupancy_v1_sdf.pt")
    assert shipped == DEFAULT_CHECKPOINT.parent / "occupancy_v1_sdf.pt"
    assert read_checkpoint(shipped)["config"]["body_sdf"] is True
    (tmp_path / "occupancy_v1_sdf.pt").write_bytes(b"mine")  # a file of that name here comes first
    assert resolve_checkpoint("occupancy_v1_sdf.pt") == Path("occupancy_v1_sdf.pt")
    assert resolve_checkpoint("missing.pt") == Path("missing.pt")  # unknown names stay as given (clear error later)
    assert resolve_checkpoint(tmp_path / "sub" / "x.pt") == tmp_path / "sub" / "x.pt"


def test_every_shipped_network_is_installed_small_safe_to_load_and_described():
    """Each checkpoints/*.pt: in the wheel's data files, under 10 MB, read with weights_only=True (read_checkpoint),
    and named in the model card with its exact training command."""
    pyproject = (REPO / "pyproject.toml").read_text()
    card = (REPO / "checkpoints" / "MODEL_CARD.md").read_text()
    shipped = sorted((REPO / "checkpoints").glob("*.pt"))
    assert {p.name for p in shipped} >= {"occupancy_v1.pt", "occupancy_v1_sdf.pt", "occupancy_v2.pt"}
    for path in shipped:
        assert f'"checkpoints/{path.name}"' in pyproject, path.name
        assert path.stat().st_size < 10 * 1024 * 1024, path.name
        assert f"--out checkpoints/{path.name}" in card, path.name
        torch.load(path, weights_only=True)
        network = load_network(path)
        assert sum(p.numel() for p in network.parameters()) > 0
