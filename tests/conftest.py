"""Session fixtures shared by several test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from browser import Browser, chromium_binary
from helpers import real_media, run_cli
from render_scene import sphere_in_front, square_camera


@pytest.fixture(scope="session")
def tennis_run(tmp_path_factory):
    """The whole tennis clip preprocessed once through the CLI (shared by several tests)."""
    out = tmp_path_factory.mktemp("tennis")
    result = run_cli("reconstruct", real_media("tennis.mp4"), "-o", out, "--until", "preprocess")
    assert result.returncode == 0, result.stderr
    return out / "tennis", result


@pytest.fixture(scope="session")
def anny_body():
    """ONE Anny model for the whole session (~1 s to build once Anny's cache exists)."""
    from humanvid.body.anny_model import create_anny_body

    return create_anny_body()


@pytest.fixture(scope="module")
def sphere():
    """The render tests' analytic scene: a sphere in front of the camera (render_scene.py)."""
    return sphere_in_front()


@pytest.fixture(scope="module")
def camera():
    """The square camera at the origin that sees the render tests' sphere (render_scene.py)."""
    return square_camera()


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    """One headless Chromium for the session (tests/browser.py)."""
    binary = chromium_binary()
    if not Path(binary).is_file():
        pytest.fail(f"the viewer tests need headless Chromium ({binary} is missing): apt-get install chromium")
    browser = Browser(binary, tmp_path_factory.mktemp("chromium-profile"))
    yield browser
    browser.close()
