"""The command line as a user meets it: help, version, image folders, exit codes."""

from __future__ import annotations

import json

import cv2
import pytest

from helpers import real_media, run_cli
from humanvid import __version__


def test_version_and_help():
    result = run_cli("--version")
    assert result.returncode == 0 and __version__ in result.stdout
    top = run_cli("--help")
    assert top.returncode == 0
    for command in ("reconstruct", "evaluate", "synth", "synth-sheet", "train", "install-pose-model", "install-viewer"):
        assert command in top.stdout
        assert run_cli(command, "--help").returncode == 0


def test_every_option_reaches_the_run(tmp_path):
    """Each option given on the command line is what the run was made with (run.json, camera.json, frames)."""
    result = run_cli("reconstruct", real_media("street_5frames.mp4"), "-o", tmp_path / "out", "--until", "preprocess",
                     "--start", "1", "--end", "5", "--every", "2", "--max-frames", "2", "--focal", "700",
                     "--resolution", "96", "--temporal-window", "1", "--depth-margin", "0.05", "--height", "1.8",
                     "--topology", "per-frame", "--person", "0",
                     "--device", "cpu", "-q")
    assert result.returncode == 0, result.stderr
    out_dir = tmp_path / "out" / "street_5frames"
    run = json.loads((out_dir / "run.json").read_text())
    assert run["settings"] == {
        "start": 1, "end": 5, "every": 2, "max_frames": 2, "focal": 700.0, "until": "preprocess", "device": "cpu",
        "body_model": "anny", "model_path": None, "exports": [], "checkpoint": None, "resolution": 96,
        "temporal_window": 1, "height": 1.8, "depth_margin": 0.05, "topology": "per-frame", "person": 0,
        "all_people": False,
    }
    assert [f["frame"] for f in run["frames"]] == [1, 3]
    assert json.loads((out_dir / "camera.json").read_text())["fx"] == 700.0
    assert run["stages"]["fit"]["status"] == "not run"  # --until preprocess


@pytest.mark.parametrize("args, named", [
    (["--until", "export"], "--until"),
    (["--every", "0"], "--every"),
    (["--start", "-1"], "--start"),
    (["--end", "3", "--start", "3"], "--end"),
    (["--resolution", "8"], "--resolution"),
    (["--temporal-window", "9"], "--temporal-window"),
    (["--depth-margin", "0.5"], "--depth-margin"),
    (["--device", "tpu"], "--device"),
    (["--body-model", "smplx"], "--model-path"),
    (["--export", "preview", "--until", "preprocess"], "--export preview needs a fitted body"),
    (["--export", "gif"], "--export gif"),
    (["--export", "glb", "--topology", "per-frame"], "--topology canonical"),
    (["--export", "html", "--until", "fit"], "the mesh stage"),
    (["--checkpoint", "nothing.pt"], "nothing.pt"),
    (["--topology", "shared"], "--topology"),
])
def test_a_bad_option_is_one_clear_usage_error(tmp_path, args, named):
    result = run_cli("reconstruct", real_media("street_5frames.mp4"), "-o", tmp_path / "out", *args)
    assert result.returncode == 2 and named in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


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
