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


def test_a_synthetic_person_cut_at_the_waist_is_meshed_with_no_legs_below_the_frame(tmp_path):
    """The same on a render (humanvid.synth.group): a camera close to the person's chest, the frame's bottom edge
    across their hips; the legs are in the scene, not in the frame. (On one still the mask already bounds the mesh:
    with the frustum clip of humanvid.stages.mesh skipped it stays inside the frame too, where the real frames'
    two-frame video above goes 1.1 px below it.)"""
    from humanvid.synth.bodies import load_anny
    from humanvid.synth.group import Group, Shot, Spot, make_group
    from humanvid.synth.poses import PoseSpace

    rig = load_anny()
    shot = Shot(width=960, height=720, distance=0.95, camera_height=1.55, aim_height=1.5)
    rendering = make_group(rig, PoseSpace.from_rig(rig), Group((Spot(11),), shot, background_seed=1))
    assert rendering.whole[0][-1].sum() > 100 and not rendering.whole[0][0].any(), "the frame no longer cuts the hips"
    write_image(tmp_path / "waist.png", rendering.rgb)
    result = run_cli("reconstruct", tmp_path / "waist.png", "-o", tmp_path / "out", "--export", "none", "--resolution",
                     "128", "-q")
    assert result.returncode == 0, result.stderr
    run = tmp_path / "out" / "waist"
    [entry] = json.loads((run / "run.json").read_text())["frames"]
    camera = json.loads((run / "camera.json").read_text())
    # measured: head, torso and arms visible; part IoU head 0.963, torso 0.988
    assert {"head", "torso"} <= set(entry["parts_visible"]) and not LEGS & set(entry["parts_visible"]), entry
    assert entry["part_iou"]["torso"] >= 0.7, entry
    vertices = np.asarray(read_obj(run / "meshes" / "000000.obj").vertices)
    rows = camera["cy"] - camera["fy"] * vertices[:, 1] / -vertices[:, 2]  # [px] each vertex's image row
    height = rendering.camera.height
    assert rows.max() <= height - 0.5 + 0.05, f"mesh {rows.max() - height:.1f} px below the frame"  # measured: 719.34
    assert rows.max() > height - 10, "the hips reach the frame's bottom edge"
