"""A learned correction of MediaPipe's 3D limb directions, applied before the fit follows them.

In: (T, 33, 3) MediaPipe world landmarks [m, MediaPipe axes]. Out: the same with the 8 limb bones
(upper arms, forearms, thighs, shins) turned to their corrected directions; frames with a missing
landmark come out unchanged. Each bone keeps MediaPipe's length and is placed from the shoulders and
hips outwards; hands and feet move with their wrist or ankle; the torso and head are left as they are.

The correction is a ridge regression per bone (`learn_limb_correction`, run by
`checkpoints/train_limb_correction.py` on the project's synthetic training stills; nothing downloaded;
shipped as limb_correction.json):
- the input is MediaPipe's direction of the bone, read in the torso's own axes (from the shoulders
  and hips), together with where the camera is in those axes, and all 8 bones' directions as context;
- the output is the true direction in the true torso's axes.

Design note: MediaPipe's limb directions are biased, most of all in depth and for people seen from
behind; the correction took the fit's PA-MPJPE from 57.5 to 50.7 mm on the validation clips (ridge
λ 3; λ 1 is shipped). It learns the synthetic generator's motions and MediaPipe's errors on renders,
which real video may not share: checkpoints/LIMB_CORRECTION.md (its card and limits) and
docs/fitting_tuning.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from humanvid.body.initialization import MEDIAPIPE_TO_OUTPUT_AXES
from humanvid.landmarks import MEDIAPIPE_INDEX, landmark_indices

LIMB_BONES = tuple((MEDIAPIPE_INDEX[f"{side}_{parent}"], MEDIAPIPE_INDEX[f"{side}_{child}"])
                   for limb in (("shoulder", "elbow", "wrist"), ("hip", "knee", "ankle"))
                   for side in ("left", "right")
                   for parent, child in zip(limb, limb[1:]))  # parent → child
CARRIED = {  # the hand and foot landmarks that move with the wrists and ankles
    MEDIAPIPE_INDEX[f"{side}_{end}"]: tuple(landmark_indices(*(f"{side}_{name}" for name in carried)))
    for end, carried in (("wrist", ("pinky", "index", "thumb")), ("ankle", ("heel", "foot_index")))
    for side in ("left", "right")
}
TO_Y_UP = np.array(MEDIAPIPE_TO_OUTPUT_AXES)  # MediaPipe axes (y down, z away) ↔ OpenGL camera axes
SHIPPED = Path(__file__).with_name("limb_correction.json")
FORMAT = "humanvid-limb-correction-1"


def torso_axes(points: np.ndarray) -> np.ndarray:
    """(T, 33, 3) y-up points → (T, 3, 3) rows: x from the left shoulder and hip to the right ones, y from
    the hips to the shoulders (made orthogonal), z = x × y (out of the torso's back)."""
    across = (points[:, 12] - points[:, 11]) + (points[:, 24] - points[:, 23])
    across = across / np.linalg.norm(across, axis=-1, keepdims=True)
    up = (points[:, 11] + points[:, 12] - points[:, 23] - points[:, 24]) / 2
    back = np.cross(across, up)
    back = back / np.linalg.norm(back, axis=-1, keepdims=True)
    return np.stack([across, np.cross(back, across), back], axis=-2)


def bone_directions(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 33, 3) y-up points → (T, 8, 3) unit limb-bone directions in torso axes, and the (T, 3, 3) axes."""
    axes = torso_axes(points)
    bones = np.stack([points[:, child] - points[:, parent] for parent, child in LIMB_BONES], axis=1)
    bones = bones / np.linalg.norm(bones, axis=-1, keepdims=True)
    return np.einsum("tij,tbj->tbi", axes, bones), axes


def features(directions: np.ndarray, camera: np.ndarray, bone: int) -> np.ndarray:
    """(T, 8, 3) directions and (T, 3) camera direction, both in torso axes → (T, 49) inputs for one bone:
    1, its direction, the camera, their products, its direction's products, all 8 directions."""
    own = directions[:, bone]
    count = len(own)
    return np.concatenate([np.ones((count, 1)), own, camera, (own[:, :, None] * camera[:, None, :]).reshape(count, -1),
                           (own[:, :, None] * own[:, None, :]).reshape(count, -1), directions.reshape(count, -1)], axis=1)


@dataclass(frozen=True)
class LimbCorrection:
    weights: np.ndarray  # (8, F, 3): per bone, features → true direction (before normalising)
    note: str = ""  # what it was learnt from

    def apply(self, world: np.ndarray) -> np.ndarray:
        """(T, 33, 3) world landmarks [m, MediaPipe axes] → the same with corrected limbs; frames with
        a missing landmark are returned as they are."""
        result = np.array(world, np.float64)
        points = result * TO_Y_UP
        complete = np.isfinite(points).all(axis=(1, 2))
        if not complete.any():
            return result
        original = points[complete]
        moved = original.copy()
        directions, axes = bone_directions(original)
        camera = axes[:, :, 2]  # the camera's viewing axis (+z, towards it) in torso axes
        for bone, (parent, child) in enumerate(LIMB_BONES):  # parents come before their children
            corrected = features(directions, camera, bone) @ self.weights[bone]
            corrected /= np.linalg.norm(corrected, axis=-1, keepdims=True)
            length = np.linalg.norm(original[:, child] - original[:, parent], axis=-1, keepdims=True)
            target = moved[:, parent] + length * np.einsum("tji,tj->ti", axes, corrected)
            shift = target - moved[:, child]
            moved[:, child] = target
            for carried in CARRIED.get(child, ()):
                moved[:, carried] += shift
        points[complete] = moved
        return points * TO_Y_UP

    def save(self, path: Path) -> None:
        from humanvid import atomic

        atomic.write_text(path, json.dumps({"format": FORMAT, "note": self.note,
                                            "weights": np.round(self.weights, 6).tolist()}) + "\n")

    @classmethod
    def load(cls, path: Path = SHIPPED) -> "LimbCorrection":
        data = json.loads(Path(path).read_text())
        if data.get("format") != FORMAT:
            raise ValueError(f"{path}: not a limb correction of format {FORMAT}")
        return cls(np.asarray(data["weights"], np.float64), data.get("note", ""))


def learn_limb_correction(world: np.ndarray, truth: np.ndarray, ridge: float = 1.0, note: str = "") -> LimbCorrection:
    """(N, 33, 3) MediaPipe world landmarks [MediaPipe axes] and (N, 33, 3) true keypoints [y-up camera axes] of
    N people → the ridge regression of each bone's true direction on its features."""
    points = np.asarray(world, np.float64) * TO_Y_UP
    truth = np.asarray(truth, np.float64)
    usable = np.isfinite(points).all(axis=(1, 2)) & np.isfinite(truth).all(axis=(1, 2))
    seen, axes = bone_directions(points[usable])
    true, _ = bone_directions(truth[usable])
    weights = []
    for bone in range(len(LIMB_BONES)):
        inputs = features(seen, axes[:, :, 2], bone)
        gram = inputs.T @ inputs + ridge * np.eye(inputs.shape[1])
        weights.append(np.linalg.solve(gram, inputs.T @ true[:, bone]))
    return LimbCorrection(np.stack(weights), note)
