"""Finding people beyond the full frame, choosing the main one and following only them (real MediaPipe, real pixels).

The scenes with two people are cut from turnaround_24frames.mp4 (one person on a white background): a large copy
cut off by the frame's left and bottom edges, which MediaPipe's full-frame detector picks, and a smaller whole copy.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from helpers import real_media, run_cli
from humanvid.atomic import write_image
from people_scenes import RISING_FRAMES, rising_scene
from preprocessing.candidates import REGIONS
from preprocessing.person import PersonDetector
from preprocessing.pose import make_pose, run_pose
from preprocessing.search import tiles
from preprocessing.video import iter_frames, probe, read_image

WHOLE_BOX = (760, 250, 1010, 630)  # where the whole (smaller) person is pasted: x0, y0, x1, y1 [px]


@pytest.fixture(scope="module")
def turnaround() -> dict[int, np.ndarray]:
    return {f.index: f.image for f in iter_frames(probe(real_media("turnaround_24frames.mp4")))}


def _paste(canvas: np.ndarray, person: np.ndarray, height: int, x: int, y: int) -> None:
    """Paste `person` (on white) scaled to `height` px with its top-left corner at (x, y), clipped to the canvas."""
    k = height / person.shape[0]
    scaled = cv2.resize(person, (round(person.shape[1] * k), height), interpolation=cv2.INTER_AREA)
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + scaled.shape[1], canvas.shape[1]), min(y + scaled.shape[0], canvas.shape[0])
    canvas[y0:y1, x0:x1] = np.minimum(canvas[y0:y1, x0:x1], scaled[y0 - y:y1 - y, x0 - x:x1 - x])


def two_people(turnaround: dict[int, np.ndarray], frame: int) -> np.ndarray:
    """720×1280 RGB: a large person cut at the waist by the left and bottom edges, and a whole one in WHOLE_BOX
    (turnaround frame `frame`: the whole person turns as `frame` advances)."""
    canvas = np.full((720, 1280, 3), 255, np.uint8)
    _paste(canvas, turnaround[12], 1300, -150, 60)
    _paste(canvas, turnaround[frame], 380, WHOLE_BOX[0], WHOLE_BOX[1])
    return canvas


def _inside(point: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def test_tiles_cover_the_frame_overlapping_by_half():
    boxes = tiles(1280, 720, 0.6)
    side = round(0.6 * 720)
    assert all(x1 - x0 == side and y1 - y0 == side for x0, y0, x1, y1 in boxes)
    covered = np.zeros((720, 1280), bool)
    for x0, y0, x1, y1 in boxes:
        covered[y0:y1, x0:x1] = True
    assert covered.all()
    xs = sorted({b[0] for b in boxes})
    assert xs[0] == 0 and xs[-1] == 1280 - side and max(np.diff(xs)) <= side / 2 + 1
    assert tiles(720, 720, 1.0) == []  # the whole frame is not searched twice
    assert tiles(300, 200, 0.36) == []  # tiles under MIN_TILE are not searched


def test_a_montage_of_small_people_is_searched_in_regions():
    """skates.png: many skaters, each small in a wide image; the full-frame detector finds none of them."""
    image = read_image(real_media("skates.png"))
    with PersonDetector(video_mode=False, search_regions=False) as plain:
        assert plain.detect(image) is None, "the full-frame detector now finds a skater: this test no longer tests"
    with PersonDetector(video_mode=False) as detector:
        found = detector.detect(image)
        start = detector.start
    assert found is not None and start.found_by == REGIONS and start.people >= 3
    chosen = start.candidates[start.chosen]
    assert chosen.completeness >= 0.9
    # on a skater: the mask is person at the body centre, and the landmarks span a standing person's height
    center = np.round(found.center * found.mask_scale).astype(int)
    assert found.mask[center[1], center[0]] > 127
    assert 250 < np.ptp(found.landmarks[:, 1]) < 450


def test_the_whole_person_is_chosen_over_a_larger_one_cut_by_the_edge(turnaround):
    image = two_people(turnaround, 0)
    pose = make_pose(static_image_mode=True)
    try:
        first = run_pose(pose, image, 1.0)
    finally:
        pose.close()
    assert first is not None and first.center[0] < 640, "the full-frame detector no longer picks the cut-off person"
    with PersonDetector(video_mode=False) as detector:
        found = detector.detect(image)
        start = detector.start
    assert found is not None and _inside(found.center, WHOLE_BOX)
    assert start.people == 2 and start.found_by == REGIONS
    assert not _inside(start.candidates[1 - start.chosen].detection.center, WHOLE_BOX)  # the other one was seen


def test_a_video_follows_the_main_person_in_every_frame(turnaround):
    """The tracker starts on the whole person though its own detector picks the cut-off one, and stays on them."""
    with PersonDetector(video_mode=True) as detector:
        centers = [detector.detect(two_people(turnaround, frame)).center for frame in range(0, 16, 2)]
        assert detector.start.found_by == REGIONS
    assert all(_inside(center, WHOLE_BOX) for center in centers), np.round(centers)


@pytest.mark.parametrize("clip, box", [
    ("soccer_5frames.mp4", (380, 330, 520, 450)),  # the running player in white, #3 (the most complete)
    ("street_5frames.mp4", (780, 250, 920, 400)),  # the woman in white nearest the camera, on the right
])
def test_the_followed_person_in_a_real_multi_person_clip(clip, box):
    """The person followed in every frame is the main person, as checked by eye on frames with their box drawn."""
    with PersonDetector(video_mode=True) as detector:
        centers = [detector.detect(frame.image).center for frame in iter_frames(probe(real_media(clip)))]
    assert len(centers) == 5 and all(_inside(center, box) for center in centers), np.round(centers)


def test_a_video_follows_the_main_person_of_the_whole_video_not_of_its_first_frame(tmp_path):
    """people_scenes.rising_scene: B is the main person of the first frames, where A is cut at the thighs by the
    bottom edge; A is the main person (whole, larger, more central) from frame 3 on. The whole video follows A from
    its first frame; the first frame's main person (how the track was started before) is B."""
    with PersonDetector(video_mode=True) as first_frame_only:
        assert first_frame_only.detect(rising_scene(0)).center[0] > 640, "B is no longer the first frame's main person"
    folder = tmp_path / "rising"
    for t in range(RISING_FRAMES):
        write_image(folder / f"{t:03d}.png", rising_scene(t))
    result = run_cli("reconstruct", folder, "-o", tmp_path / "out", "--until", "preprocess", "-q")
    assert result.returncode == 0, result.stderr
    run = tmp_path / "out" / "rising"
    frames = json.loads((run / "keypoints.json").read_text())["frames"]
    assert [f["status"] for f in frames] == ["ok"] * RISING_FRAMES
    centres = [np.mean([f["landmarks"][i][0] for i in (11, 12, 23, 24)]) for f in frames]
    assert all(abs(x - (300 + 20 * t)) < 100 for t, x in enumerate(centres)), np.round(centres)  # A, not B (800+)
    person = json.loads((run / "run.json").read_text())["stages"]["preprocess"]["person"]
    assert person["frame"] == 0 and person["chosen"] == "main person over the sampled frames"
    assert len(person["sampled_frames"]) == 8 and person["sampled_frames"][0] == 0
    assert 0 not in person["main_in_frames"] and len(person["main_in_frames"]) >= 5
    assert person["seen_in_frames"] == person["sampled_frames"]


def test_run_json_records_how_the_person_was_found(tmp_path):
    photo = real_media("skates.png")
    result = run_cli("reconstruct", "--until", "preprocess", photo, "-o", tmp_path, "-q")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / photo.stem / "run.json").read_text())
    person = manifest["stages"]["preprocess"]["person"]
    assert person["frame"] == 0 and person["found_by"] == REGIONS and person["people"] >= 3


def test_poses_imagined_in_a_patterned_floor_are_nobody(tmp_path, monkeypatch):
    """The exhaustive search (as --person asks) of a synthetic still with one person: MediaPipe, run on small tiles of
    its checkered floor, imagines a few partial poses there (checked: 4 of them, ≤ 15 % whole); they are not
    numbered as people, and nothing of the person's mask is cut for them."""
    from preprocessing import candidates

    result = run_cli("synth", "--split", "test", "--count", "1", "-o", tmp_path, "-q")
    assert result.returncode == 0, result.stderr
    image = cv2.cvtColor(cv2.imread(str(tmp_path / "test" / "000000" / "render.png")), cv2.COLOR_BGR2RGB)
    with PersonDetector(video_mode=False, person=0) as detector:
        found = detector.detect(image)
        start = detector.start
    assert start.people == 1
    assert np.array_equal(found.mask, start.candidates[0].detection.mask)
    monkeypatch.setattr(candidates, "is_phantom", lambda candidate, best: False)  # the floor's poses count again
    with PersonDetector(video_mode=False, person=0) as detector:
        cut = detector.detect(image)
        assert detector.start.people > 1
    assert (cut.mask > 127).sum() < 0.95 * (found.mask > 127).sum()


def test_a_whole_person_is_not_pushed_out_by_a_large_pose_a_tile_imagined(tmp_path):
    """loose-test still 17: MediaPipe finds no one in the full frame; its tiles find the person whole (small, far
    away) and imagine large, mostly missing poses in the background (checked: 38 % whole at 5× the person's size).
    The whole person is followed: the chosen landmarks lie on the person's pixels of the render."""
    result = run_cli("synth", "--split", "loose-test", "--start", "17", "--count", "1", "-o", tmp_path, "-q")
    assert result.returncode == 0, result.stderr
    sample = tmp_path / "loose-test" / "000017"
    image = cv2.cvtColor(cv2.imread(str(sample / "render.png")), cv2.COLOR_BGR2RGB)
    person = cv2.imread(str(sample / "render_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
    with PersonDetector(video_mode=False) as detector:
        found = detector.detect(image)
        chosen = detector.start.candidates[0]
    assert chosen.completeness >= 0.9 and detector.start.people >= 2
    points = np.round(chosen.detection.landmarks[[11, 12, 23, 24], :2]).astype(int)  # shoulders and hips
    on_person = [person[max(y - 3, 0):y + 4, max(x - 3, 0):x + 4].any() for x, y in points]
    assert all(on_person), points
    assert found is not None
