"""Fixtures shared by the synthetic-data tests: Anny and its pose space, built once per session."""

from __future__ import annotations

import pytest

from humanvid.synth.bodies import load_anny
from humanvid.synth.poses import PoseSpace


@pytest.fixture(scope="session")
def rig():
    return load_anny()


@pytest.fixture(scope="session")
def space(rig):
    return PoseSpace.from_rig(rig)
