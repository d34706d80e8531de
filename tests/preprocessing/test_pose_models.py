"""Installing MediaPipe's heavy pose model: the real file from the installed copy, wrong files refused."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile

import pytest

from humanvid.errors import HumanvidError
from preprocessing import pose_models
from preprocessing.pose_models import HEAVY_MODEL_NAME, heavy_model_installed, install_heavy_model, mediapipe_model_folder


def _tarball(path, members: dict[str, bytes]):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(scope="module")
def heavy_bytes():
    return (mediapipe_model_folder() / HEAVY_MODEL_NAME).read_bytes()  # installed by the README's setup


def test_installs_from_an_npm_style_tarball(tmp_path, heavy_bytes):
    source = _tarball(tmp_path / "mediapipe-pose.tgz", {"package/package.json": b"{}", pose_models.MEMBER: heavy_bytes})
    target = tmp_path / "models"
    target.mkdir()
    assert not heavy_model_installed(target)
    installed = install_heavy_model(source, target)
    assert installed == target / HEAVY_MODEL_NAME and installed.read_bytes() == heavy_bytes
    assert heavy_model_installed(target) and sorted(p.name for p in target.iterdir()) == [HEAVY_MODEL_NAME]
    assert installed.stat().st_mode & 0o777 == 0o644  # readable by whoever runs MediaPipe, like pip's files


def test_installs_the_tflite_itself(tmp_path, heavy_bytes):
    source = tmp_path / HEAVY_MODEL_NAME
    source.write_bytes(heavy_bytes)
    target = tmp_path / "models"
    target.mkdir()
    assert install_heavy_model(source, target).read_bytes() == heavy_bytes


@pytest.mark.parametrize("case, message", [
    ("wrong model", "not MediaPipe's heavy pose model"),
    ("no model inside", "holds no package/pose_landmark_heavy.tflite"),
    ("not a tarball", "neither a readable tarball nor a .tflite file"),
    ("missing", "no such file"),
])
def test_refuses_anything_else_and_leaves_the_folder_alone(tmp_path, heavy_bytes, case, message):
    source = {
        "wrong model": lambda: _tarball(tmp_path / "a.tgz", {pose_models.MEMBER: heavy_bytes[:-1] + b"x"}),
        "no model inside": lambda: _tarball(tmp_path / "a.tgz", {"package/pose_landmark_full.tflite": b"full"}),
        "not a tarball": lambda: (tmp_path / "a.tgz").write_bytes(b"plain text") and tmp_path / "a.tgz",
        "missing": lambda: tmp_path / "absent.tgz",
    }[case]()
    target = tmp_path / "models"
    target.mkdir()
    (target / HEAVY_MODEL_NAME).write_bytes(b"what was there")
    with pytest.raises(HumanvidError, match=message):
        install_heavy_model(source, target)
    assert [p.name for p in target.iterdir()] == [HEAVY_MODEL_NAME]
    assert (target / HEAVY_MODEL_NAME).read_bytes() == b"what was there"


def test_cli_reports_a_wrong_file_in_one_line(tmp_path):
    source = _tarball(tmp_path / "a.tgz", {pose_models.MEMBER: b"not a model"})
    done = subprocess.run([sys.executable, "-m", "humanvid", "install-pose-model", str(source)],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert "not MediaPipe's heavy pose model" in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1


def test_heavy_pose_is_never_downloaded(monkeypatch):
    from preprocessing.pose import make_pose

    monkeypatch.setattr(pose_models, "heavy_model_installed", lambda folder=None: False)  # as on a machine without it
    with pytest.raises(HumanvidError, match="heavy pose model is not installed"):
        make_pose(static_image_mode=False, complexity=2)
