"""Only the followed person's pixels in their mask, and nothing of another person in their mesh (real MediaPipe on
real pixels: two copies of the turnaround person side by side, the left one's hand reaching over the right one), nor
what they hold (a tennis player's racket)."""

from __future__ import annotations

import numpy as np
import trimesh

from helpers import real_media, run_cli
from humanvid.exchange.run_folder import RunFolder
from humanvid.export.mesh_views import front_view
from people_scenes import only, pair_scene, pair_silhouettes
from preprocessing.instance import isolate
from preprocessing.person import PersonDetector
from preprocessing.video import iter_frames, probe
from humanvid.atomic import write_image

LEFT, RIGHT = 0, 1
RACKET_FRAME = 276  # tennis.mp4: the player holds the racket out at their side, its head clear of the body
RACKET_HEAD = (slice(415, 485), slice(600, 685))  # rows, columns [full-frame px] inside the racket's head


def _share(mask: np.ndarray, pixels: np.ndarray) -> float:
    return float(((mask > 127) & pixels).sum() / pixels.sum())


def test_the_neighbours_hand_is_cut_out_of_the_followed_persons_mask():
    silhouettes = pair_silhouettes()
    with PersonDetector(video_mode=False) as detector:
        found = detector.detect(pair_scene())
        start = detector.start
    assert start.people == 2 and found.center[0] > 640, "the scene's main person is no longer the right one"
    raw = start.candidates[start.chosen].detection  # MediaPipe's own mask, before the neighbour is cut
    assert _share(raw.mask, only(silhouettes, LEFT)) > 0.01, "MediaPipe's mask no longer holds the neighbour's hand"
    assert _share(found.mask, only(silhouettes, LEFT)) < 0.003
    assert _share(found.mask, only(silhouettes, RIGHT)) > 0.9  # the followed person is all still there


def test_a_separate_piece_far_from_the_followed_person_is_cut():
    """A piece of mask nobody's landmarks explain (a person the search did not tell apart), added to MediaPipe's
    mask of the followed person two torso lengths from them: it goes, their own pixels stay."""
    with PersonDetector(video_mode=False) as detector:
        found = detector.detect(pair_scene())
    far = np.zeros_like(found.mask)
    far[100:600, 20:120] = 255  # a piece of "person" two torso lengths away, not touching them
    merged = found.__class__(found.landmarks, found.world_landmarks, np.maximum(found.mask, far), found.mask_scale)
    cut = isolate(merged)
    assert (cut.mask[100:600, 20:120] == 0).all()
    assert np.array_equal(cut.mask[:, 300:], found.mask[:, 300:])  # the person's own pieces are untouched


def test_the_mesh_of_the_followed_person_covers_nothing_of_the_neighbour(tmp_path):
    photo = tmp_path / "pair.png"
    write_image(photo, pair_scene())
    result = run_cli("reconstruct", photo, "-o", tmp_path / "out", "--export", "none", "-q")
    assert result.returncode == 0, result.stderr
    run = RunFolder(tmp_path / "out" / "pair")
    mesh = trimesh.load(run.mesh_path(0), process=False, force="mesh")
    covered = front_view(mesh, run.read_camera()).coverage > 0.5
    silhouettes = pair_silhouettes()
    assert _share(covered * 255, only(silhouettes, LEFT)) < 0.003  # 0.014 when the hand stays in the mask
    assert _share(covered * 255, only(silhouettes, RIGHT)) > 0.85


def test_a_held_racket_is_cut_out_of_the_players_mask():
    image = next(f.image for f in iter_frames(probe(real_media("tennis.mp4"))) if f.index == RACKET_FRAME)
    with PersonDetector(video_mode=False) as detector:
        found = detector.detect(image)
        raw = detector.start.candidates[detector.start.chosen].detection  # MediaPipe's own mask
    assert found.mask_scale == 1.0 and raw.mask.shape == image.shape[:2]
    head = np.zeros(raw.mask.shape, bool)
    head[RACKET_HEAD] = True
    assert _share(raw.mask, head) > 0.3, "MediaPipe's mask no longer holds the racket's head"
    assert _share(isolate(raw).mask, head) > 0.3  # no hand found: nothing held is cut
    assert _share(found.mask, head) < 0.02
    player = (raw.mask > 127) & ~head
    assert _share(found.mask, player) > 0.97  # the player is all still there (the racket's throat aside)
    # MediaPipe Hands finds no hand (a fist round a blurred grip): the pose's own hand parts the racket from the body
    unfound = isolate(raw, (), lambda sides: {})
    assert _share(unfound.mask, head) < 0.02
    assert _share(unfound.mask, player) > 0.97
