"""Everyone in the first frame with people, numbered as `--person N` counts them, and their overview image.

The survey runs the same person search as the detection pass (PersonDetector with
a person number, so the exhaustive search): it stops at the same first frame
with people and numbers them the same way, and the search it makes is the one
the detection pass then finds remembered (preprocessing/search.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from humanvid.quiet import native_stderr_silenced as quiet_stderr
from preprocessing.candidates import Candidate
from preprocessing.crop import person_extent
from preprocessing.person import PersonDetector
from preprocessing.video import FrameSelection, MediaInfo, iter_frames

COLOURS = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240),
           (240, 50, 230), (210, 245, 60), (250, 190, 190), (0, 128, 128))  # RGB, one per number, cycled


@dataclass
class People:
    """Everyone told apart in the first selected frame with people."""

    frame: int  # source frame index
    image: np.ndarray  # H×W×3 RGB: that frame
    candidates: list[Candidate]  # numbered: candidates[N] is `--person N`

    def boxes(self) -> np.ndarray:
        """(N, 4) each person's box x0, y0, x1, y1 [full-frame px]."""
        return np.array([person_extent(c.detection) for c in self.candidates]).reshape(-1, 4)


def survey(info: MediaInfo, selection: FrameSelection, quiet: bool = True) -> People | None:
    """The people of the first selected frame that shows someone, or None if no frame does."""
    with quiet_stderr(quiet), PersonDetector(video_mode=info.kind != "image", quiet=quiet, person=0) as detector:
        for frame in iter_frames(info, selection):
            if frame.image is not None and detector.detect(frame.image) is not None:
                return People(frame.index, frame.image, detector.start.candidates)
    return None


def overview(people: People) -> np.ndarray:
    """H×W×3 RGB: the frame with each person's box and number (`--person N`), the main person's box thicker."""
    image = people.image.copy()
    line = max(2, round(min(image.shape[:2]) / 300))
    for number, box in enumerate(people.boxes()):
        colour = COLOURS[number % len(COLOURS)]
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        cv2.rectangle(image, (x0, y0), (x1, y1), colour, line * (2 if number == 0 else 1), cv2.LINE_AA)
        text, scale = str(number), line * 0.6
        (width, height), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, line)
        tx, ty = max(x0, 0), max(y0, height + base + 2)
        cv2.rectangle(image, (tx, ty - height - base - 2), (tx + width + 4, ty), colour, -1)
        cv2.putText(image, text, (tx + 2, ty - base), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), line,
                    cv2.LINE_AA)
    return image
