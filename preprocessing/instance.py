"""Only the followed person's pixels: another person's are cut out of their mask.

MediaPipe's segmentation marks every person in the region it looked at, so the
followed person's mask also holds a neighbour's arm, or all of a person they
hug. Each person is pictured as capsules around their skeleton's segments (a
thick torso and head, thinner limbs, thin hands and feet); a mask pixel belongs
to the person whose capsule surface is nearest, measured in each person's own
torso lengths so a large person near the camera is not outweighed by a small one
behind. Pixels nearer another person than the followed one are cut, and so is
every separate piece of the mask far from the followed person's body (a person
the search did not tell apart) and what they hold: pixels nearer to one of
their hands as MediaPipe Hands found it (preprocessing/hands.py: fingertips
included) than to the rest of them, and farther than HELD beyond it (a racket, a
bag), with whatever the hand parts from the body (a piece of the mask that touches
the hand's zone and no capsule of the person). Where MediaPipe Hands finds no hand
(fists round a grip, motion blur), the pose's own hand parts only.

Design note: nearness is to the hands MediaPipe Hands finds (fingertips included), not to the pose's.
Cutting beyond the pose's own hands cut real body in 2 of 48 loose-test stills, up to 17 % of the person
(hands the pose misplaced); beyond the hands MediaPipe Hands finds, 1.8 % of one still of 48. What only hangs
from the body through a hand is cut whether or not MediaPipe Hands found it, if it reaches PROTRUDE beyond the
hand: the racket's head reaches 0.52 to 0.98 torso lengths in five tennis.mp4 frames, the edge of a skirt under
a hand 0.28 (loose-test still 25, 1.7 % of the person cut without PROTRUDE). The racket's head is cut in 53 of
tennis.mp4's 312 frames (real_gallery.py: mesh-vs-mask IoU 0.894 → 0.897, frames with every part whole 183 →
192); nothing on 48 test stills. A hand is looked for only where the mask reaches beyond the pose's hand
(REACH), on a crop four forearm lengths across (CROP_HALF): MediaPipe Hands finds 53 of tennis.mp4's 88 such
hands at this size, 44 at half of it.

Distances are computed on a grid of about MIN_TORSO_CELLS cells per torso and
interpolated to the mask's pixels: a few milliseconds for a whole frame.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Mapping, Sequence

import cv2
import numpy as np

from humanvid.geometry.skeleton import named_points, segment_distance
from humanvid.landmarks import MEDIAPIPE_INDEX
from preprocessing.hands import HAND_BONES
from preprocessing.pose import Detection

# Skeleton segments by landmark name ("neck": the shoulders' midpoint, "pelvis": the hips'), grouped by the
# capsule radius around them [torso lengths: shoulder centre to hip centre, ~50 cm on an adult].
CAPSULES: tuple[tuple[float, tuple[tuple[str, str], ...]], ...] = (
    (0.18, (("neck", "pelvis"), ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
            ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"))),
    (0.22, (("nose", "neck"), ("left_ear", "right_ear"))),
    (0.09, (("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
            ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"))),
    (0.05, (("left_wrist", "left_index"), ("left_wrist", "left_pinky"), ("right_wrist", "right_index"),
            ("right_wrist", "right_pinky"))),
    (0.12, (("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("right_hip", "right_knee"),
            ("right_knee", "right_ankle"))),
    (0.05, (("left_ankle", "left_heel"), ("left_heel", "left_foot_index"), ("left_ankle", "left_foot_index"),
            ("right_ankle", "right_heel"), ("right_heel", "right_foot_index"),
            ("right_ankle", "right_foot_index"))),
)
SIDES = ("left", "right")
HANDS = 3  # the index in CAPSULES of the pose's hand capsules
FINGER_RADIUS = 0.03  # [torso lengths] capsules around the bones of a hand MediaPipe Hands found
BONE_NAMES = tuple((str(a), str(b)) for a, b in HAND_BONES)  # as humanvid.geometry.skeleton names points
REACH = 0.3  # [torso lengths] where the mask reaches this far beyond the pose's hand capsules, the hands are looked for
HELD = 0.15  # [torso lengths] mask pixels nearest to a found hand and this far beyond its capsules are held, not body
PROTRUDE = 0.4  # [torso lengths] a piece a hand parts from the body is held if it reaches this far beyond the hand
OTHER_VISIBLE = 0.5  # another person's segment counts only where both ends are this visible (not guessed)
FAR = 0.6  # [torso lengths] a separate piece of the mask this far from the followed person's capsules is cut
MIN_TORSO_CELLS = 24  # grid cells per torso length where distances are computed
MASK_FLOOR = 128  # pixels at least this much person make up the mask's separate pieces
SAME_BODY = 0.6  # another detection with this share of its visible landmarks on the followed person's mask is them


def isolate(person: Detection, others: Sequence[Detection] = (),
            find_hands: Callable[[tuple[str, ...]], Mapping[str, np.ndarray]] | None = None) -> Detection:
    """`person` with only their own pixels left in the mask.

    person: the followed person (full-frame landmarks, a mask at `mask_scale`); others: everyone else found in
    the same frame (their landmarks only are used; those lying mostly on `person`'s mask are `person` again,
    on_body, and are ignored); find_hands: given sides ("left", "right"), `person`'s hands there as MediaPipe
    Hands finds them, side → (21, 2) full-frame pixels for each side it found (preprocessing/hands.py), asked only
    about the hands the mask reaches REACH beyond (None: no hand is looked at, nothing held is cut). Returns a copy
    whose mask is 0 where a pixel is nearer to another person's capsules than to `person`'s, in every separate piece
    (8-connected, mask ≥ MASK_FLOOR) farther than FAR torso lengths from `person`'s capsules, and on what a hand
    holds (_held; a hand asked about but not found is the pose's); every other pixel
    keeps its value.
    """
    mask = person.mask
    solid = (mask >= MASK_FLOOR).astype(np.uint8)
    others = [other for other in others if not on_body(other, person, solid)]
    count, labels, boxes = _pieces(solid)
    if count < 2:
        return person  # no mask
    height, width = mask.shape
    sizes = [d.torso_size * person.mask_scale for d in (person, *others)]
    step = max(1.0, min(sizes) / MIN_TORSO_CELLS)  # mask pixels per grid cell
    grid = (max(int(np.ceil(height / step)), 1), max(int(np.ceil(width / step)), 1))
    scale = person.mask_scale / step
    body = capsule_distance(person.landmarks, scale, grid, 0.0, exclude=HANDS)
    left, right = (capsule_distance(person.landmarks, scale, grid, 0.0, only=HANDS, side=side) for side in SIDES)
    pose_hands = np.minimum(left, right)
    sides = tuple(side for side, mine, theirs in zip(SIDES, (left, right), (right, left))
                  if (_upsample(((mine < body) & (mine <= theirs) & (mine > REACH)).astype(np.float32),
                                (height, width)) * solid).any())
    hands = dict(find_hands(sides)) if find_hands is not None and sides else {}
    missed = [side for side in sides if side not in hands] if find_hands is not None else []
    if count == 2 and not others and not hands and not missed:
        return person  # nothing to cut: one piece, nobody else, no hand beyond which the mask reaches
    own = _upsample(np.minimum(body, pose_hands), (height, width))
    keep = np.ones((height, width), bool)
    if hands or missed:  # a hand found may be a neighbour's: it marks what is held, never what is the person's own
        found = finger_distance(list(hands.values()), scale, grid, person.torso_size * scale)
        guessed = np.full(grid, np.inf, np.float32)  # the pose's hands where MediaPipe Hands found none
        for side in missed:
            np.minimum(guessed, left if side == "left" else right, out=guessed)
        keep &= ~_held(mask, _upsample(body, (height, width)), _upsample(found, (height, width)),
                       _upsample(guessed, (height, width)), own)
    if count > 2:
        keep &= ~_far_pieces(solid, count, labels, boxes, own)
    for other in others:
        theirs = capsule_distance(other.landmarks, scale, grid, OTHER_VISIBLE)
        keep &= _upsample(theirs, (height, width)) >= own
    if keep.all():
        return person
    return replace(person, mask=np.where(keep, mask, 0).astype(np.uint8))


def on_body(other: Detection, person: Detection, solid: np.ndarray) -> bool:
    """Whether `other` is a piece of `person` seen again (a tile's view of their leg, a duplicate at another scale),
    not someone else: SAME_BODY of its visible landmarks (OTHER_VISIBLE) or more lie on `person`'s mask `solid`
    ((h, w) 0/1 at `person.mask_scale`)."""
    visible = other.landmarks[:, 3] >= OTHER_VISIBLE
    if not visible.any():
        return True
    pixels = np.round(other.landmarks[visible, :2] * person.mask_scale).astype(int)
    height, width = solid.shape
    inside = (pixels[:, 0] >= 0) & (pixels[:, 0] < width) & (pixels[:, 1] >= 0) & (pixels[:, 1] < height)
    on_mask = np.zeros(len(pixels), bool)
    on_mask[inside] = solid[pixels[inside, 1], pixels[inside, 0]] > 0
    return bool(on_mask.mean() >= SAME_BODY)


def capsule_distance(landmarks: np.ndarray, scale: float, grid: tuple[int, int], min_visibility: float,
                     only: int | None = None, exclude: int | None = None, side: str | None = None) -> np.ndarray:
    """(h, w) float32: each grid cell's distance to the surface of the person's nearest capsule, in their torso
    lengths (negative inside); +inf if no segment qualifies.

    landmarks: (33, 4) full-frame x, y, z, visibility; scale: grid cells per full-frame pixel; grid: (h, w);
    min_visibility: segments whose ends are less visible than this are left out (the torso's never are);
    only / exclude: the index in CAPSULES of the one group of capsules to use / to leave out; side: "left" or
    "right", only that side's segments.
    """
    points = named_points(landmarks[:, :2] * scale)
    visibility = {name: landmarks[i, 3] for name, i in MEDIAPIPE_INDEX.items()}
    visibility["neck"] = visibility["pelvis"] = 1.0
    torso = float(max(np.linalg.norm(points["neck"] - points["pelvis"]), 1e-3))
    best = np.full(grid, np.inf, np.float32)
    for index, (radius, segments) in enumerate(CAPSULES):
        if (only is not None and index != only) or index == exclude:
            continue
        seen = (lambda a, b: True) if index == 0 else (lambda a, b: min(visibility[a], visibility[b]) >= min_visibility)
        if side is not None:
            segments = tuple(pair for pair in segments if all(name.startswith(side) for name in pair))
        distance = segment_distance(points, segments, grid, seen)
        if distance is not None:
            np.minimum(best, distance / torso - radius, out=best)
    return best


def finger_distance(hands: Sequence[np.ndarray], scale: float, grid: tuple[int, int], torso: float) -> np.ndarray:
    """(h, w) float32: each grid cell's distance to the surface of the nearest capsule (FINGER_RADIUS) around the
    bones of `hands` ((21, 2) full-frame pixels each), in torso lengths (`torso`: grid cells); +inf if none."""
    best = np.full(grid, np.inf, np.float32)
    for hand in hands:
        points = {str(index): point for index, point in enumerate(np.asarray(hand, np.float64) * scale)}
        distance = segment_distance(points, BONE_NAMES, grid)
        if distance is not None:
            np.minimum(best, distance / max(torso, 1e-3) - FINGER_RADIUS, out=best)
    return best


def _upsample(distance: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A grid of distances interpolated to an (h, w) image (infinite grids stay infinite)."""
    if not np.isfinite(distance).any():
        return np.full(shape, np.inf, np.float32)
    finite = np.where(np.isfinite(distance), distance, 1e6).astype(np.float32)
    return cv2.resize(finite, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def _pieces(binary: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """The 8-connected pieces of an (h, w) 0/1 uint8 image: their count (the background, label 0, included), the
    (h, w) int32 labels and each label's (count, 4) bounding box x, y, width, height."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    return count, labels, stats[:, :4]


def _piece_minimum(values: np.ndarray, labels: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(count,) float64: the least of (h, w) `values` over each labelled piece (each read inside its box); +inf
    for the background, label 0."""
    least = np.full(len(boxes), np.inf)
    for label, (x, y, w, h) in enumerate(boxes[1:], start=1):
        inside = labels[y:y + h, x:x + w] == label
        if inside.any():
            least[label] = values[y:y + h, x:x + w][inside].min()
    return least


def _piece_maximum(values: np.ndarray, labels: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(count,) float64: the greatest of (h, w) `values` over each labelled piece; -inf for the background."""
    return -_piece_minimum(-values, labels, boxes)


def _far_pieces(solid: np.ndarray, count: int, labels: np.ndarray, boxes: np.ndarray, own: np.ndarray
                ) -> np.ndarray:
    """(h, w) bool: the pieces of the mask (`solid`: mask ≥ MASK_FLOOR; `count`, `labels`, `boxes` its 8-connected
    pieces as _pieces gives them) whose nearest pixel lies farther than FAR from the person's capsules (`own`, torso
    lengths), with their soft rims; the piece nearest to the person is never cut."""
    if count <= 2:
        return np.zeros(solid.shape, bool)
    nearest = _piece_minimum(own, labels, boxes)
    nearest[0] = -np.inf
    far = nearest > FAR
    far[np.argmin(nearest[1:]) + 1] = False
    if not far.any():
        return np.zeros(solid.shape, bool)
    cut = far[labels]
    # the soft rim around a cut piece (below MASK_FLOOR, so outside every piece) goes with it
    rim = cv2.dilate(cut.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & (solid == 0)
    return cut | rim


def _held(mask: np.ndarray, body: np.ndarray, hands: np.ndarray, guessed: np.ndarray, own: np.ndarray
          ) -> np.ndarray:
    """(h, w) bool: what the person holds (distances in torso lengths, see capsule_distance):

    - pixels of `mask` nearer to the found `hands`' capsules than to the `body`'s and farther than HELD beyond
      them, in pieces that reach PROTRUDE beyond them;
    - every piece of the rest of the mask that a hand's zone parts from the body: it touches the zone, has no pixel
      inside a capsule of the person (`own` < 0) and reaches PROTRUDE beyond the hands (a racket's head beside a
      leg, not the edge of a skirt a hand rests on).

    A found hand's zone: the pixels nearer to it than to the body and those within HELD of it. A hand MediaPipe
    Hands did not find (`guessed`: distances to the pose's own hand capsules, +inf where none) has only the pixels
    within HELD of it and claims nothing by nearness (the pose's hands can be confidently wrong)."""
    person = mask > 0
    claimed = person & (hands < body)
    held = claimed & (hands > HELD)
    count, labels, boxes = _pieces(held.astype(np.uint8))
    if count > 1:
        held &= (_piece_maximum(hands, labels, boxes) > PROTRUDE)[labels]
    zone = claimed | (person & ((hands <= HELD) | (guessed <= HELD)))
    if not zone.any():
        return held
    count, labels, boxes = _pieces(((mask >= MASK_FLOOR) & ~zone).astype(np.uint8))
    if count > 1:
        anchored = _piece_minimum(own, labels, boxes) < 0
        touching = np.zeros(count, bool)
        touching[np.unique(labels[cv2.dilate(zone.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0])] = True
        hanging = touching & ~anchored
        hanging[0] = False
        hanging &= _piece_maximum(np.minimum(hands, guessed), labels, boxes) > PROTRUDE
        held |= hanging[labels]
    return held
