"""Following one person through a video, or finding the main person in a still image.

The followed person is the main person (preprocessing/candidates.py) among
everyone the region search finds (preprocessing/search.py): in a still image,
in every frame searched; in a video, the main person over frames sampled from
all of it (preprocessing/video_choice.py, when the caller gives the detector
those frames: `choose_over`), else of the frame where the track starts. The
track starts in the first frame where the search finds them; from there
MediaPipe runs in video mode and tracks them. Its tracker starts on whomever
its detector picks in the whole frame; when that is not the followed person,
it is started on a copy of the frame with everything but them blacked out.
When the tracker later loses the person and re-detects, it may pick somebody
else: a jump of the body centre larger than the body could have moved is taken
as such a switch, and the frame is searched again in a window around where the
followed person was, so the track never hops between people. Each frame's mask
keeps only the followed person's pixels (preprocessing/instance.py): where the
search told several people apart, those nearer to someone else are cut; in
every frame, separate pieces far from them and what their hands hold (the hands
as MediaPipe Hands finds them, preprocessing/hands.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from humanvid.errors import HumanvidError
from humanvid.quiet import native_stderr_silenced as quiet_stderr
from preprocessing.candidates import Candidate, rank, same_person
from preprocessing.crop import person_extent
from preprocessing.hands import HandFinder
from preprocessing.instance import isolate
from preprocessing.pose import Detection, make_pose, run_pose, run_pose_in
from preprocessing.search import TILE_FRACTIONS, search_frame, shrink
from preprocessing.video import Frame
from preprocessing.video_choice import VideoChoice, choose

EARLY_SEARCHES = 3  # a video's first frames get the region search even where the full frame shows nobody
SEARCH_EVERY = 30  # later frames before the track starts: the region search on every SEARCH_EVERY-th only
BLACKOUT_MARGIN = 0.3  # around the main person's box, × its longer side, kept when the rest is blacked out


@dataclass
class TrackStart:
    """Everyone the search found in the frame where the followed person was chosen (a still: its only frame)."""

    candidates: list[Candidate]  # one per person, numbered as `--person N` counts them (candidates.rank)
    chosen: int  # index of the followed person in `candidates`

    @property
    def found_by(self) -> str:
        """How the followed person was found: candidates.FULL_FRAME | MIRRORED | REGIONS."""
        return self.candidates[self.chosen].found_by

    @property
    def people(self) -> int:
        return len(self.candidates)


class PersonDetector:
    """Follows the main person through a sequence of frames (or finds them in a still image).

    video_mode: frames are consecutive (MediaPipe tracks); False: every frame is a still on its own.
    search_regions: look beyond the full frame (tiles at several scales) for people and choose the main one;
    False: the person MediaPipe's detector picks in the full frame (or the mirrored frame), as for renders
    known to hold exactly one person.
    person: None follows the main person; N follows person N of everyone told apart by the exhaustive search
    (every tile scale) where the track starts, 0 being the main person; HumanvidError if fewer were found.
    """

    def __init__(self, video_mode: bool = True, quiet: bool = True, search_regions: bool = True,
                 person: int | None = None):
        self.video_mode = video_mode
        self.person = person
        self.quiet = quiet
        self.search_regions = search_regions
        with quiet_stderr(quiet):
            self._pose = make_pose(static_image_mode=not video_mode)
        self._hands = HandFinder(quiet)
        self._static = None if video_mode else self._pose  # static-image Pose for searches
        self._previous: Detection | None = None
        self._missed = 0  # frames since the followed person was last seen
        self._untracked = 0  # frames seen before the track started
        self.start: TrackStart | None = None  # set once the followed person is chosen (each still: anew)
        self._others: list[Detection] = []  # everyone else the search found in the current frame
        self.choice: VideoChoice | None = None  # the main person of the video, if chosen over it (choose_over)

    def close(self) -> None:
        self._pose.close()
        self._hands.close()
        if self._static is not None and self._static is not self._pose:
            self._static.close()

    def __enter__(self) -> "PersonDetector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def choose_over(self, frames: Iterable[Frame]) -> VideoChoice | None:
        """Follow the main person over a video's sampled `frames` (preprocessing/video_choice.py), not the first
        frame's: for a video's main person only (no person number, region search on), before its first frame is
        detected. The choice, or None where it was not made or the search found nobody in `frames`."""
        if self.video_mode and self.person is None and self.search_regions and self.start is None:
            with quiet_stderr(self.quiet):
                self.choice = choose(frames, self._static_pose())
        return self.choice

    def detect(self, image: np.ndarray, index: int | None = None) -> Detection | None:
        """Landmarks and mask (only their own pixels) of the followed person in an H×W×3 RGB frame, or None.
        index: the frame's source index, by which a video's main person chosen over it (choose_over) is found."""
        self._others = []
        small, scale = shrink(image)
        with quiet_stderr(self.quiet):
            if not self.video_mode:
                detection = self._find_main(small, scale)
            elif self._previous is None:
                detection = self._start_track(small, scale, index)
            else:
                detection = run_pose(self._pose, small, scale)
                if detection is None or not _plausible_motion(self._previous, detection, self._missed):
                    detection = self._search_near(small, scale, self._previous)
        if detection is None:
            self._missed += 1
        else:
            detection = isolate(detection, self._others, lambda sides: self._hands.find(small, scale, detection, sides))
            self._previous, self._missed = detection, 0
        return detection

    def _static_pose(self):
        if self._static is None:
            self._static = make_pose(static_image_mode=True)
        return self._static

    def _choose(self, small: np.ndarray, scale: float, full: Detection | None,
                index: int | None = None) -> Candidate | None:
        """Search the frame (source frame `index`) and remember who was found; the person to follow, or None.
        With a video's main person chosen over it: the candidate linked to them, or None if none is."""
        choice = self.choice if index is not None else None
        candidates = None if choice is None else choice.searched(index)
        if candidates is None:
            fractions = TILE_FRACTIONS if self.search_regions else ()
            candidates = rank(search_frame(self._static_pose(), small, scale, full, fractions,
                                           self.person is not None))
        if not candidates:
            return None
        if choice is not None:
            linked = choice.linked(index, candidates, small, scale)
            if linked is None:
                return None
            number = candidates.index(linked)
        else:
            number = self.person or 0
            if number >= len(candidates):
                raise HumanvidError(f"--person {number}: the first frame with people shows {len(candidates)} "
                                    f"(numbered 0 to {len(candidates) - 1} in people.png)")
        chosen = candidates[number]
        self.start = TrackStart(candidates, number)
        self._others = [c.detection for c in candidates if c is not chosen]
        return chosen

    def _find_main(self, small: np.ndarray, scale: float) -> Detection | None:
        """A still image: the main person among everyone found."""
        self.start = None
        chosen = self._choose(small, scale, None)
        return None if chosen is None else chosen.detection

    def _start_track(self, small: np.ndarray, scale: float, index: int | None) -> Detection | None:
        """A video frame (source frame `index`) before anyone was followed: find the person to follow (the main
        one, or the one linked to the video's main person) and start MediaPipe's tracker on them.

        The region search runs where the full frame shows someone, and on the first EARLY_SEARCHES frames and
        every SEARCH_EVERY-th after; other frames where the full frame shows nobody cost one MediaPipe call.
        A frame sampled to choose the video's main person is not searched again.
        """
        self._untracked += 1
        full = run_pose(self._static_pose(), small, scale)
        due = self._untracked <= EARLY_SEARCHES or self._untracked % SEARCH_EVERY == 0
        sampled = self.choice is not None and index is not None and self.choice.searched(index) is not None
        if full is None and not sampled and not (due and self.search_regions):
            return None
        chosen = self._choose(small, scale, full, index)
        if chosen is None:
            return None
        main = chosen.detection
        frame = small if full is not None and same_person(full, main) else _black_out(small, scale, main)
        tracked = run_pose(self._pose, frame, scale)
        return tracked if tracked is not None and same_person(tracked, main) else main

    def _search_near(self, small: np.ndarray, scale: float, previous: Detection) -> Detection | None:
        """Look for the followed person in a window around their last position."""
        height, width = small.shape[:2]
        center = previous.center * scale
        half = (3.0 + 1.5 * self._missed) * previous.torso_size * scale
        x0, y0 = (max(int(c - half), 0) for c in center)
        x1, y1 = int(min(center[0] + half, width)), int(min(center[1] + half, height))
        if x1 - x0 < 32 or y1 - y0 < 32:
            return None
        detection = run_pose_in(self._static_pose(), small, scale, (x0, y0, x1, y1))
        if detection is None:
            return None
        return detection if _plausible_motion(previous, detection, self._missed) else None


def _black_out(small: np.ndarray, scale: float, person: Detection) -> np.ndarray:
    """A copy of `small` (the frame scaled by `scale`) black but for the box around `person`."""
    extent = person_extent(person) * scale
    margin = BLACKOUT_MARGIN * (extent[2:] - extent[:2]).max()
    height, width = small.shape[:2]
    x0, y0 = (int(max(v - margin, 0)) for v in extent[:2])
    x1, y1 = int(min(extent[2] + margin + 1, width)), int(min(extent[3] + margin + 1, height))
    out = np.zeros_like(small)
    out[y0:y1, x0:x1] = small[y0:y1, x0:x1]
    return out


def _plausible_motion(previous: Detection, current: Detection, frames_missed: int = 0) -> bool:
    """False when the body centre jumped further than a person moves in the frames between."""
    jump = np.linalg.norm(current.center - previous.center)
    size_ratio = current.torso_size / previous.torso_size
    return jump < 1.5 * (1 + frames_missed) * previous.torso_size and 0.5 < size_ratio < 2.0
