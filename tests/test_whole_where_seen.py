"""Whole where seen, nothing where not: run.json's visible parts and part figures, and a person cut at the waist
(real frames of turnaround_24frames.mp4, cut below the jacket) meshed with no legs below the frame."""

from __future__ import annotations

import json

import numpy as np

from helpers import run_cli
from humanvid.atomic import write_image
from humanvid.exchange.obj import read_obj
from people_scenes import turnaround

WAIST = 480  # [px] rows of the 896-row turnaround frames kept: the jacket's hem, the hips just inside
LEGS = {"left_leg", "right_leg"}


def test_a_person_cut_at_the_waist_is_meshed_with_no_legs_below_the_frame(tmp_path):
    frames = tmp_path / "waist"
    frames.mkdir()
    for number, index in enumerate((17, 19)):  # two frames: the video's canonical person, posed per frame
        write_image(frames / f"{number:02d}.png", turnaround()[index][:WAIST])
    result = run_cli("reconstruct", frames, "-o", tmp_path / "out", "--export", "none", "--resolution", "128", "-q")
    assert result.returncode == 0, result.stderr
    run = tmp_path / "out" / "waist"
    manifest = json.loads((run / "run.json").read_text())
    camera = json.loads((run / "camera.json").read_text())
    fy, cy = camera["fy"], camera["cy"]
    for entry in manifest["frames"]:
        assert entry["mesh"] == "ok"
        assert {"head", "torso"} <= set(entry["parts_visible"]) and not LEGS & set(entry["parts_visible"]), entry
        assert set(entry["part_iou"]) <= set(entry["parts_visible"]) and entry["part_iou"]["torso"] >= 0.7, entry
        vertices = np.asarray(read_obj(run / "meshes" / f"{entry['frame']:06d}.obj").vertices)
        rows = cy - fy * vertices[:, 1] / -vertices[:, 2]  # [px] each vertex's image row (OBJ: 0.01 px rounding)
        assert rows.max() <= WAIST - 0.5 + 0.05, f"frame {entry['frame']}: mesh {rows.max() - WAIST:.1f} px below"
        assert rows.max() > WAIST - 10, "the torso reaches the frame's bottom edge"
    assert manifest["quality"]["parts_whole_fraction"] is not None
