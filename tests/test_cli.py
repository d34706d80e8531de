"""The command line as a user meets it: help, version, image folders, exit codes."""

from __future__ import annotations

import json

import cv2

from helpers import real_media, run_cli
from humanvid import __version__


def test_version_and_help():
    result = run_cli("--version")
    assert result.returncode == 0 and __version__ in result.stdout
    top = run_cli("--help")
    assert top.returncode == 0 and "reconstruct" in top.stdout
    help_text = run_cli("reconstruct", "--help").stdout
    for option in ("--start", "--end", "--every", "--max-frames", "--overwrite", "--until", "--focal",
                   "--device", "--verbose", "--quiet", "--output"):
        assert option in help_text


def test_image_folder_is_one_sequence_in_natural_order(tmp_path):
    folder = tmp_path / "shots"
    folder.mkdir()
    capture = cv2.VideoCapture(str(real_media("soccer_5frames.mp4")))
    for i in range(5):
        cv2.imwrite(str(folder / f"img{i * 5}.png"), capture.read()[1])  # img0, img5, img10 … sorts naturally
    capture.release()
    (folder / "img12.png").write_bytes(b"broken")  # sorts between img10 and img15
    result = run_cli("reconstruct", "--until", "preprocess", folder, "-o", tmp_path / "out", "--focal", "900")
    assert result.returncode == 0, result.stderr
    out_dir = tmp_path / "out" / "shots"
    run = json.loads((out_dir / "run.json").read_text())
    statuses = [f["status"] for f in run["frames"]]
    assert statuses[:3] == ["ok"] * 3 and statuses[3].startswith("failed: ") and statuses[4:] == ["ok"] * 2
    assert run["input"]["kind"] == "image_folder"
    assert sorted(p.name for p in (out_dir / "crops").iterdir()) == [f"{i:06d}.png" for i in (0, 1, 2, 4, 5)]
    camera = json.loads((out_dir / "camera.json").read_text())
    assert camera["fx"] == camera["fy"] == 900.0


def test_every_keeps_original_frame_numbers(tmp_path):
    result = run_cli("reconstruct", "--until", "preprocess", real_media("street_5frames.mp4"), "-o", tmp_path, "--every", "2", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # --quiet prints nothing when all went well
    names = sorted(p.name for p in (tmp_path / "street_5frames" / "crops").iterdir())
    assert names == ["000000.png", "000002.png", "000004.png"]
