"""Fixtures of the body-model tests: ONE Anny model for the whole session (~1 s to build
once Anny's cache exists)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def anny_body():
    from humanvid.body.anny_model import create_anny_body

    return create_anny_body()
