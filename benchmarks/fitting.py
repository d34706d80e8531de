"""Body fitting accuracy and speed: synthetic clips with known bodies, and tennis.mp4.

    python benchmarks/fitting.py [--clips /tmp/humanvid_fit_clips] [--tennis-frames 312] [--more-clips 48]

Synthetic: 8 test clips (benchmarks/fitting_clips.py: Anny bodies of random shape moving
through humanvid.synth's clip motions, rendered from a random static camera, preprocessed by
the real MediaPipe pipeline), fitted with the default settings; the fitted MediaPipe-order 3D
keypoints are compared with the true ones (both camera frame) over the 12 limb joints
(shoulders, elbows, wrists, hips, knees, ankles): MPJPE after aligning the hip centres,
PA-MPJPE (per-frame similarity alignment), acceleration error (root-aligned) and the error of
the body height (fitted shape's rest height vs the true one). Each clip's view (the angle
between where the person faces and the camera, from the truth) splits the means into clips
seen from behind and the others. As a diagnostic, the same fit is also given the true joints'
2D positions, MediaPipe's 2D landmarks with half their error, or the true 3D pose, in place of
MediaPipe's. With --more-clips N, N further clips made the same way are fitted too (are the test
clips' means typical?). Clips are made once and cached in --clips. tennis.mp4: keypoint
reprojection error in 512-pixel crop units, IoU of the rendered body with the MediaPipe mask, and
seconds per frame of the fit (process CPU time, and wall time; torch limited to 2 threads, then
to 1). Writes its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from humanvid.landmarks import HIPS, SHOULDERS, landmark_indices
from common import REAL, humanvid, run_timed, write_section
from fitting_clips import ensure_clips, ensure_more_clips
from fitting_data import load_observations, mask_ious, with_crop_looks

LIMB_JOINTS = landmark_indices(*(f"{side}_{joint}" for joint in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
                                 for side in ("left", "right")))


@dataclasses.dataclass
class ClipScores:
    name: str
    motion: str
    mpjpe: float
    pa_mpjpe: float
    acceleration: float
    height_error_mm: float
    seconds_per_frame: float
    mediapipe_pa_mpjpe: float  # MediaPipe's 3D world landmarks of its look at each frame, for reference
    averaged_pa_mpjpe: float  # ... averaged with its looks at the crop (what the fit follows)
    view_deg: float  # mean angle between where the person faces and the camera: 0 facing it, 180 back to it


BEHIND = 120.0  # degrees: clips whose person mostly turns their back to the camera (view above this)


def view_angle_deg(keypoints: np.ndarray) -> np.ndarray:
    """(T, 33, 3) camera-frame keypoints -> (T,) angle [°] between the torso's forward direction
    (shoulder line × spine, MediaPipe order) and the direction from the hips to the camera."""
    shoulders, hips = keypoints[:, SHOULDERS], keypoints[:, HIPS]
    forward = np.cross(shoulders[:, 0] - shoulders[:, 1], shoulders.mean(axis=1) - hips.mean(axis=1))
    to_camera = -hips.mean(axis=1)
    cosine = (forward * to_camera).sum(-1) / (np.linalg.norm(forward, axis=-1) * np.linalg.norm(to_camera, axis=-1))
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))


def body_height(body, shape: torch.Tensor) -> float:
    """Rest-pose height (m) of a shape (1, S)."""
    with torch.no_grad():
        return float(body.rest_height(shape))


# What a diagnostic fit is given from the truth instead of MediaPipe: "2d" the true joints' 2D positions,
# "2d-half" MediaPipe's 2D landmarks moved halfway to them (half their error), "3d" the true 3D pose.
ORACLES = ("2d", "2d-half", "3d")
MORE_SEEDS = 9300  # first seed of --more-clips (the test clips are 9000-9007, the tuning clips 9100-9107)


def with_true_landmarks(observations, truth_keypoints: np.ndarray, oracle: str):
    """The observations with MediaPipe's 2D landmarks ("2d": the true joints' projections; "2d-half":
    halfway between the two) or its 3D world landmarks ("3d": the true hip-centred pose, MediaPipe
    axes) replaced by the truth, where the truth has the point; a diagnostic of what limits the fit."""
    from humanvid.projection import intrinsic_matrix, project
    from humanvid.body.initialization import camera_to_mediapipe_world

    actual = torch.from_numpy(truth_keypoints).to(observations.pixels.dtype)
    known = torch.isfinite(actual).all(dim=-1)[..., None]
    if oracle in ("2d", "2d-half"):
        camera = intrinsic_matrix(observations.fx, observations.fy, observations.cx, observations.cy)
        true_pixels = project(actual, torch.tensor(camera, dtype=actual.dtype))
        if oracle == "2d-half":
            true_pixels = 0.5 * (true_pixels + observations.pixels)
        pixels = torch.where(known & torch.isfinite(observations.pixels), true_pixels, observations.pixels)
        return dataclasses.replace(observations, pixels=pixels)
    centred = actual - actual[:, HIPS].mean(dim=1, keepdim=True)
    camera = (observations.fx, observations.fy, observations.cx, observations.cy)
    world = torch.where(known, camera_to_mediapipe_world(centred, observations.pixels, *camera), observations.world_landmarks)
    return dataclasses.replace(observations, world_landmarks=world)


def score_clip(body, folder: Path, settings, known_height: bool = False, oracle: str | None = None) -> ClipScores:
    """Fit one clip and score it; with known_height the fit is told the person's true height
    (as `humanvid reconstruct --height` is); with an `oracle` (ORACLES) part of its input is the truth."""
    from humanvid.body.fitting import fit_body_sequence
    from humanvid.body.initialization import mediapipe_world_to_output_axes
    from humanvid.evaluation.metrics import acceleration_error, mpjpe, pa_mpjpe

    truth = np.load(folder / "truth.npz")
    if known_height:
        settings = dataclasses.replace(settings, subject_height=float(truth["height"]))
    observations, silhouettes, _ = load_observations(folder / "pre" / "frames")
    looked = observations.world_landmarks
    started = time.process_time()
    if oracle != "3d":  # the true 3D pose replaces all of MediaPipe's
        observations = with_crop_looks(observations, folder / "pre" / "frames")
    if oracle is not None:
        observations = with_true_landmarks(observations, truth["keypoints"], oracle)
    fit = fit_body_sequence(body, observations, settings, silhouettes=silhouettes)
    cpu = time.process_time() - started
    with torch.no_grad():
        predicted = body(fit.params).keypoints.double().numpy()[:, LIMB_JOINTS]
    actual = truth["keypoints"].astype(np.float64)[:, LIMB_JOINTS]
    valid = np.isfinite(actual).all(axis=-1) & fit.observed.numpy()[:, None]
    seen = valid.sum(axis=1) >= 4
    hips = [LIMB_JOINTS.index(j) for j in HIPS]
    predicted_rel = predicted - predicted[:, hips].mean(axis=1, keepdims=True)
    actual_rel = actual - actual[:, hips].mean(axis=1, keepdims=True)

    def mediapipe_pa_mpjpe(world_landmarks: torch.Tensor) -> float:
        world = mediapipe_world_to_output_axes(world_landmarks.double()).numpy()[:, LIMB_JOINTS]
        world_seen = seen & np.isfinite(world).all(axis=(1, 2))
        return pa_mpjpe(world[world_seen], np.nan_to_num(actual[world_seen]), valid[world_seen])

    return ClipScores(
        folder.name, str(truth["motion"]),
        mpjpe(predicted_rel, actual_rel, valid),
        pa_mpjpe(predicted[seen], np.nan_to_num(actual[seen]), valid[seen]),
        acceleration_error(predicted_rel, np.nan_to_num(actual_rel), valid),
        abs(body_height(body, fit.params.shape) - float(truth["height"])) * 1000.0,
        cpu / len(actual),
        mediapipe_pa_mpjpe(looked),
        mediapipe_pa_mpjpe(observations.world_landmarks),
        float(np.nanmean(view_angle_deg(truth["keypoints"].astype(np.float64)))),
    )  # fmt: skip


def score_tennis(body, folder: Path, settings, frames: int) -> dict:
    from humanvid.body.fitting import KeypointObservations, fit_body_sequence

    observations, silhouettes, masks = load_observations(folder)
    keep = slice(0, frames)
    observations = KeypointObservations(
        observations.pixels[keep], observations.visibility[keep], observations.world_landmarks[keep],
        observations.fx, observations.fy, observations.cx, observations.cy, observations.crop_sides[keep],
    )  # fmt: skip
    silhouettes, masks = silhouettes.index(keep), masks[keep]
    cpu, wall = time.process_time(), time.perf_counter()
    observations = with_crop_looks(observations, folder)
    fit = fit_body_sequence(body, observations, settings, silhouettes=silhouettes)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    with torch.no_grad():
        vertices = body(fit.params).vertices
    ious = mask_ious(vertices, body.faces, observations, silhouettes, masks)
    count = len(masks)
    return {
        "frames": count,
        "reprojection": float(torch.nanmean(fit.reprojection_crop_px)),
        "reprojection_p90": float(np.nanpercentile(fit.reprojection_crop_px.numpy(), 90)),
        "iou": float(np.nanmean(ious)),
        "iou_min": float(np.nanmin(ious)),
        "cpu": cpu / count,
        "wall": wall / count,
    }


def more_clips_text(more: list[ClipScores], failed: list[int], count: int, mean) -> str:
    """The paragraph on --more-clips: their means, and the acceleration error per motion."""
    if not count:
        return ("`--more-clips 48` also fits 48 further clips made the same way, to tell whether the test clips' "
                "means are typical (not run this time).")
    if not more:
        return f"`--more-clips {count}`: MediaPipe found nobody in any of the {count} clips."
    motions = dict.fromkeys(c.motion for c in more)  # in the order they come
    per_motion = ", ".join(f"{m} {mean('acceleration', [c for c in more if c.motion == m]):.2f}" for m in motions)
    left_out = f"; MediaPipe found nobody in seed(s) {', '.join(map(str, failed))}, left out" if failed else ""
    return (f"On {len(more)} more clips made the same way (`--more-clips {count}`: seeds {MORE_SEEDS}–{MORE_SEEDS + count - 1}, the 8 motions in "
            f"turn{left_out}) the same fit gets MPJPE {mean('mpjpe', more):.1f} mm, PA-MPJPE {mean('pa_mpjpe', more):.1f}, "
            f"acceleration {mean('acceleration', more):.2f} mm/frame²; acceleration per motion: {per_motion}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=Path(tempfile.gettempdir()) / "humanvid_fit_clips")
    parser.add_argument("--tennis-frames", type=int, default=312)
    parser.add_argument("--more-clips", type=int, default=0, metavar="N",
                        help=f"also fit N further synthetic clips (seeds {MORE_SEEDS}, ...): are the test clips' means typical?")
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    args = parser.parse_args()
    torch.set_num_threads(2)
    from humanvid.body.anny_model import create_anny_body
    from humanvid.body.fitting import FitSettings

    settings = FitSettings()
    body = create_anny_body()
    folders = ensure_clips(args.clips)
    clips = [score_clip(body, folder, settings) for folder in folders]
    told = [score_clip(body, folder, settings, known_height=True) for folder in folders]
    given = {oracle: [score_clip(body, folder, settings, oracle=oracle) for folder in folders] for oracle in ORACLES}
    for clip in clips + told + [clip for scores in given.values() for clip in scores]:
        print(clip)
    more_folders, more_failed = ensure_more_clips(args.clips, args.more_clips, MORE_SEEDS)
    more = [score_clip(body, folder, settings) for folder in more_folders]
    with tempfile.TemporaryDirectory() as tmp:
        timed = run_timed(humanvid("reconstruct", REAL / "tennis.mp4", "-o", tmp, "--until", "preprocess", "-q"))
        if timed.returncode != 0:
            raise SystemExit(f"preprocessing tennis.mp4 failed: {timed.stderr}")
        tennis = score_tennis(body, Path(tmp) / "tennis", settings, args.tennis_frames)
        torch.set_num_threads(1)
        one_thread = score_tennis(body, Path(tmp) / "tennis", settings, args.tennis_frames)
        torch.set_num_threads(2)
    print(tennis, one_thread)

    def mean(field: str, scores=clips) -> float:
        return float(np.mean([getattr(clip, field) for clip in scores]))

    behind = [c for c in clips if c.view_deg > BEHIND]
    facing = [c for c in clips if c.view_deg <= BEHIND]

    def means(scores) -> str:
        return (f"MPJPE {mean('mpjpe', scores):.1f} mm, PA-MPJPE {mean('pa_mpjpe', scores):.1f}, acceleration "
                f"{mean('acceleration', scores):.2f} mm/frame², PA-MPJPE of MediaPipe's averaged 3D landmarks {mean('averaged_pa_mpjpe', scores):.1f}"
                if scores else "none")

    more_text = more_clips_text(more, more_failed, args.more_clips, mean)
    rows = "\n".join(
        f"| {c.name} | {c.motion} | {c.view_deg:.0f} | {c.mpjpe:.1f} | {c.pa_mpjpe:.1f} | {c.acceleration:.2f} | {c.height_error_mm:.0f} | {c.seconds_per_frame:.2f} | {c.mediapipe_pa_mpjpe:.1f} | {c.averaged_pa_mpjpe:.1f} |"
        for c in clips
    )
    body_text = f"""## Body fitting (`benchmarks/fitting.py`)

Synthetic test clips ({len(clips)} × 48 frames; `benchmarks/fitting_clips.py`: Anny bodies of random shape
in humanvid.synth clip motions, random static camera, real MediaPipe preprocessing). Errors over the
12 limb joints in the camera frame; MPJPE after aligning the hip centres, acceleration error root-aligned.

| measure | value | target |
|---|---|---|
| MPJPE, root-aligned (mm) | {mean("mpjpe"):.1f} | ≤ 90 |
| PA-MPJPE (mm) | {mean("pa_mpjpe"):.1f} | ≤ 50 |
| acceleration error (mm/frame²) | {mean("acceleration"):.2f} | ≤ 5 |
| body height error (mm) | {mean("height_error_mm"):.0f} | |
| for reference: PA-MPJPE of MediaPipe's 3D world landmarks (mm) | {mean("mediapipe_pa_mpjpe"):.1f} | |
| ... averaged over its looks at the crop too, with image depth (what the fit follows) | {mean("averaged_pa_mpjpe"):.1f} | |

Told each person's true height (`--height`), the same fit gets MPJPE {mean("mpjpe", told):.1f} mm,
PA-MPJPE {mean("pa_mpjpe", told):.1f}, acceleration {mean("acceleration", told):.2f} mm/frame² and a height error of
{mean("height_error_mm", told):.0f} mm; per clip MPJPE {", ".join(f"{c.mpjpe:.0f}" for c in told)}.

Where the error comes from: the same fit, given part of its input from the truth instead of MediaPipe.

| the fit is given | MPJPE | PA-MPJPE | accel |
|---|---|---|---|
| MediaPipe's 2D and 3D landmarks (default) | {mean("mpjpe"):.1f} | {mean("pa_mpjpe"):.1f} | {mean("acceleration"):.2f} |
| the true joints' 2D positions instead of MediaPipe's 2D landmarks | {mean("mpjpe", given["2d"]):.1f} | {mean("pa_mpjpe", given["2d"]):.1f} | {mean("acceleration", given["2d"]):.2f} |
| MediaPipe's 2D landmarks moved halfway to the true ones (half their error) | {mean("mpjpe", given["2d-half"]):.1f} | {mean("pa_mpjpe", given["2d-half"]):.1f} | {mean("acceleration", given["2d-half"]):.2f} |
| the true 3D pose instead of MediaPipe's 3D world landmarks | {mean("mpjpe", given["3d"]):.1f} | {mean("pa_mpjpe", given["3d"]):.1f} | {mean("acceleration", given["3d"]):.2f} |

{more_text}

Seen from behind or from the front: the error is where MediaPipe's 3D landmarks are worst, on people who turn
their back to the camera. {len(behind)} clip(s) with the person's back to the camera (view > {BEHIND:.0f}°, the
angle between where the person faces and the camera, from the truth): {means(behind)}. The other {len(facing)},
seen from the front or the side: {means(facing)}.

| clip | motion | view ° | MPJPE | PA-MPJPE | accel | height err | CPU s/frame | MediaPipe 3D PA-MPJPE | averaged |
|---|---|---|---|---|---|---|---|---|---|
{rows}

`tennis.mp4` (first {tennis["frames"]} frames), default settings, torch on 2 threads:

| measure | value | target |
|---|---|---|
| keypoint reprojection, mean (512-px crop) | {tennis["reprojection"]:.2f} (p90 {tennis["reprojection_p90"]:.1f}) | ≤ 6 |
| mask IoU of the rendered body, mean | {tennis["iou"]:.3f} (min {tennis["iou_min"]:.2f}) | ≥ 0.70 |
| fitting, CPU seconds per frame (process time) | {tennis["cpu"]:.3f} | ≤ 0.3 on 2 cores |
| fitting, wall seconds per frame | {tennis["wall"]:.3f} | |
| the same with torch on 1 thread: CPU / wall seconds per frame | {one_thread["cpu"]:.3f} / {one_thread["wall"]:.3f} | |

Wall time depends on the machine's other load; CPU time is what the fit itself used (both torch threads,
spin-waiting included, so it grows with the load; on 1 thread there is no waiting, so the table's last row
shows the work itself). On these short clips the one-off shape stage dominates the
CPU time. Monocular scale is ambiguous: the synthetic people differ in height while the shape prior centres on
one average adult, and the root-aligned MPJPE carries that scale error (PA-MPJPE removes it; the height error
above, and the fit told each height, show its size).
The fit's remaining error is mostly limb depth, and the "where the error comes from" table says whose:
with perfect 2D landmarks the PA error goes from {mean("pa_mpjpe"):.1f} to {mean("pa_mpjpe", given["2d"]):.1f} mm, with a perfect 3D
pose in place of MediaPipe's world landmarks (which the fit starts from and whose limb directions it follows) to
{mean("pa_mpjpe", given["3d"]):.1f}. MediaPipe's 3D landmarks (last two columns) are further off than the fit; a better 2D-to-3D
lifting is the lever.
MediaPipe predicts those landmarks as seen along its line of sight to the person, and the fit turns them
into the camera's axes first.
The fit follows the average of several looks, each blended with its image depth
(`humanvid/body/world_landmarks.py`; last column): MediaPipe's look at the frame and, with MediaPipe's heavy
pose model installed (the README's setup), two looks at the crop with it, plain and mirrored, whose 2D landmarks
it follows too (`preprocessing/crop_looks.py`); a look that saw left and right exchanged where most looks did not
is left out of that frame. With the heavy model's looks the averaged landmarks' limb directions are then corrected
(`humanvid/body/limb_correction.py`; also in the last column). The looks at the crop are in the times
above (two MediaPipe graphs side by side, one per look).
Why the fit is built so, and the measurements that chose each of its settings: `docs/fitting_tuning.md`.
"""
    print(body_text)
    if not args.no_write:
        write_section("fitting", body_text)


if __name__ == "__main__":
    main()
