"""`--person N` and `--all-people` on two real people side by side (copies of the turnaround person): the main
person is the right one, person 1 the left one (real MediaPipe on real pixels)."""

from __future__ import annotations

import json

import cv2
import numpy as np

from helpers import REAL, run_cli
from humanvid.atomic import write_image
from people_scenes import pair_scene
from test_bad_input import assert_one_clean_error

MIDDLE = 640  # [px] between the two people of the pair scene


def _photo(tmp_path):
    photo = tmp_path / "pair.png"
    write_image(photo, pair_scene())
    return photo


def _followed_x(run_dir) -> float:
    """The body centre's x [full-frame px] of the person a run followed (mean of shoulders and hips)."""
    frame = json.loads((run_dir / "keypoints.json").read_text())["frames"][0]
    return float(np.mean([frame["landmarks"][i][0] for i in (11, 12, 23, 24)]))


def test_person_1_follows_the_other_person_and_writes_the_overview(tmp_path):
    photo = _photo(tmp_path)
    result = run_cli("reconstruct", photo, "-o", tmp_path / "one", "--person", "1", "--until", "preprocess", "-q")
    assert result.returncode == 0, result.stderr
    run = tmp_path / "one" / "pair"
    assert _followed_x(run) < MIDDLE
    assert (run / "people.png").stat().st_size > 0
    main = run_cli("reconstruct", photo, "-o", tmp_path / "main", "--until", "preprocess", "-q")
    assert main.returncode == 0, main.stderr
    assert _followed_x(tmp_path / "main" / "pair") > MIDDLE
    # a resumed run asked to follow someone else does not reuse the first one's preprocessing
    again = run_cli("reconstruct", photo, "-o", tmp_path / "one", "--person", "0", "--until", "preprocess", "-q")
    assert again.returncode == 1 and "other settings" in again.stderr
    again = run_cli("reconstruct", photo, "-o", tmp_path / "one", "--person", "0", "--until", "preprocess", "-q",
                    "--overwrite")
    assert again.returncode == 0, again.stderr
    assert _followed_x(run) > MIDDLE


def test_all_people_writes_one_complete_folder_per_person(tmp_path):
    result = run_cli("reconstruct", _photo(tmp_path), "-o", tmp_path, "--all-people", "--until", "preprocess", "-q")
    assert result.returncode == 0, result.stderr
    root = tmp_path / "pair"
    assert (root / "people.png").exists()
    folders = sorted(p.name for p in root.glob("person_*"))
    assert folders[:2] == ["person_0", "person_1"]
    assert _followed_x(root / "person_0") > MIDDLE and _followed_x(root / "person_1") < MIDDLE
    for name in folders:
        manifest = json.loads((root / name / "run.json").read_text())
        assert manifest["stages"]["preprocess"]["status"] == "complete"
        assert manifest["settings"]["person"] == int(name.split("_")[1])
        assert (root / name / "masks" / "000000.png").exists()


def test_a_person_beyond_those_found_is_one_clean_error(tmp_path):
    result = run_cli("reconstruct", _photo(tmp_path), "-o", tmp_path / "out", "--person", "9", "--until",
                     "preprocess", "-q")
    assert result.returncode == 1
    assert_one_clean_error(result, "--person 9")
    assert not (tmp_path / "out" / "pair").exists(), "a failed input left a half-made output folder"


def test_person_and_all_people_exclude_each_other(tmp_path):
    result = run_cli("reconstruct", _photo(tmp_path), "-o", tmp_path / "out", "--person", "1", "--all-people")
    assert result.returncode == 2 and "exclude each other" in result.stderr and "Traceback" not in result.stderr


SKATES = REAL / "skates.png"


def test_a_person_beside_others_in_the_crop_is_fitted_and_an_empty_field_is_one_clean_error(tmp_path):
    # Person 4 of the skates montage has person 0 beside them in the crop; MediaPipe's looks at the crop found
    # person 0, and the body was fitted onto them (silhouette IoU 0), outside the mask: no mesh, then a crash.
    result = run_cli("reconstruct", SKATES, "-o", tmp_path, "--person", "4", "--until", "fit", "-q")
    assert result.returncode == 0, result.stderr
    run = tmp_path / "skates"
    [frame] = json.loads((run / "run.json").read_text())["frames"]
    assert frame["mask_iou"] > 0.5, frame
    # A field with no surface (here: the mask emptied) fails the input with one line and a consistent run.json.
    mask = run / "masks" / "000000.png"
    write_image(mask, np.zeros_like(cv2.imread(str(mask), cv2.IMREAD_GRAYSCALE)))
    result = run_cli("reconstruct", SKATES, "-o", tmp_path, "--person", "4", "--export", "none", "-q")
    assert result.returncode == 1
    assert_one_clean_error(result, "no surface")
    manifest = json.loads((run / "run.json").read_text())
    assert manifest["stages"]["mesh"]["status"].startswith("failed: no surface"), manifest["stages"]["mesh"]
    assert not list(run.glob("meshes/*.obj"))
    assert not (run / "avatar").exists()
