"""The fit stage: preprocessing outputs → one body per frame (body/params.npz, body/NNNNNN.obj).

Reads what preprocessing wrote (keypoints.json, camera.json, masks/, crops/), looks at the
crops again with MediaPipe (preprocessing/crop_looks.py), fits the body model over the whole
video (humanvid.body.fitting) to the 2D landmarks and the averaged 3D ones
(humanvid/body/world_landmarks.py), and measures how well the body
explains each frame: keypoint reprojection error in crop pixels and the IoU of the
body's silhouette with the person mask.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch

from humanvid.constants import CROP_SIZE, SILHOUETTE_SIZE
from humanvid.evaluation.silhouette import mask_iou, rasterize_silhouette
from humanvid.exchange.obj import write_obj
from humanvid.exchange.run_folder import RunFolder
from humanvid.projection import crop_camera, resized_affine

@dataclass
class Observations:
    """Everything fitting needs from preprocessing, for the T selected frames."""

    frames: np.ndarray  # (T,) source frame indices
    found: np.ndarray  # (T,) bool, a person was detected
    pixels: np.ndarray  # (T, 33, 2) landmarks [full-frame px], NaN without a person
    visibility: np.ndarray  # (T, 33)
    world: np.ndarray  # (T, 33, 3) MediaPipe world landmarks [m], NaN without a person
    image: np.ndarray  # (T, 33, 3) MediaPipe image landmarks x, y, z [full-frame px], NaN without a person
    affines: np.ndarray  # (T, 2, 3) full frame → 512 crop
    intrinsics: np.ndarray  # (4,) fx, fy, cx, cy
    masks: np.ndarray  # (T, S, S) bool person masks at SILHOUETTE_SIZE, empty without a person


def load_observations(run: RunFolder) -> Observations:
    """What preprocessing wrote into the run folder, as the fit reads it."""
    track = run.read_keypoints()
    count = len(track.frames)
    masks = np.zeros((count, SILHOUETTE_SIZE, SILHOUETTE_SIZE), bool)
    for row in np.flatnonzero(track.found):
        mask = run.read_mask(int(track.frames[row]))
        masks[row] = cv2.resize(mask, (SILHOUETTE_SIZE, SILHOUETTE_SIZE), interpolation=cv2.INTER_AREA) > 127
    affines = track.affines
    # Frames without a person borrow the nearest crop affine (only used to place their silhouettes).
    if track.found.any():
        seen = np.flatnonzero(track.found)
        affines = affines[seen[np.abs(np.arange(count)[:, None] - seen).argmin(axis=1)]]
    return Observations(track.frames, track.found, track.landmarks[..., :2], np.nan_to_num(track.landmarks[..., 3]),
                        track.world_landmarks, track.landmarks[..., :3], affines, run.read_camera().intrinsics, masks)


@dataclass
class LookedLandmarks:
    """What the fit follows of MediaPipe, after its looks at the crops (preprocessing/crop_looks.py)."""

    world: np.ndarray  # (T, 33, 3) world landmarks [m] averaged over all looks; NaN without a person
    pixels: np.ndarray  # (T, 33, 2) 2D landmarks [full-frame px]; NaN without a person
    pose_model: str  # "heavy" or "full": the model of the crop looks


def look_at_crops(run: RunFolder, observations: Observations,
                  on_progress: Callable[[int, int], None] = lambda *_: None) -> LookedLandmarks:
    """MediaPipe's looks at the crops (crop_looks.fit_looks) combined with preprocessing's look at each
    frame: world landmarks averaged over all of them (humanvid/body/world_landmarks.py); 2D landmarks
    the mean of the heavy model's looks where it was run (2D error on the 8 synthetic test clips 7.2 →
    5.2 crop px), else preprocessing's. A look that saw another pose than most looks did (left and
    right exchanged, crop_looks.consensus) or another person beside the followed one (crop_looks.same_person)
    counts as not seen in that frame. With the heavy model's
    looks, whose errors it was learnt on, the world landmarks' limbs are then corrected
    (humanvid/body/limb_correction.py)."""
    from humanvid.body.limb_correction import LimbCorrection
    from humanvid.body.world_landmarks import agreeing_looks, blended_looks, mean_of_agreeing
    from preprocessing.crop import from_crop, to_crop
    from preprocessing.crop_looks import consensus, crop_landmarks, fit_looks, same_person

    looks = fit_looks()
    crops = [run.crop_path(frame) if seen else None for frame, seen in zip(observations.frames, observations.found)]
    at_crops = crop_landmarks(crops, looks, on_progress=on_progress)
    found = np.asarray(observations.found)
    followed = to_crop(observations.pixels, observations.affines.astype(np.float64))
    # A crop can show others beside the followed person (a crowd, --person N): a look at one of them is no look.
    at_crops = [tuple(np.where(same_person(followed, image[..., :2])[:, None, None], array, np.nan)
                      for array in (world, image)) for world, image in at_crops]
    same_pose = consensus([followed, *[image[..., :2] for _, image in at_crops]])  # (1 + looks, T)
    kept = [tuple(np.where(same[:, None, None], array, np.nan) for array in look)
            for look, same in zip([(observations.world, observations.image), *at_crops], same_pose)]
    estimates = blended_looks(kept)
    world = np.where(found[:, None, None], mean_of_agreeing(estimates), np.nan)
    in_3d = agreeing_looks(estimates)  # (1 + looks, T): also not far from preprocessing's look in 3D
    heavy = [np.where(agrees[:, None, None], image[..., :2], np.nan)
             for look, (_, image), agrees in zip(looks, kept[1:], in_3d[1:]) if look.complexity == 2]
    pixels = observations.pixels
    if heavy and found.any():
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # frames no heavy look saw: all NaN
            in_crop = np.nanmean(np.stack(heavy), axis=0)
        in_frame = from_crop(in_crop, observations.affines.astype(np.float64))
        pixels = np.where(np.isfinite(in_frame).all(axis=-1, keepdims=True) & found[:, None, None], in_frame, pixels)
    if heavy:
        world = LimbCorrection.load().apply(world)
    return LookedLandmarks(world, pixels, "heavy" if heavy else "full")


def mask_affines(affines: np.ndarray) -> np.ndarray:
    """(T, 2, 3) full frame → silhouette-mask pixels, from the crop affines."""
    return resized_affine(affines, SILHOUETTE_SIZE, CROP_SIZE)


@dataclass
class FitResult:
    observed: np.ndarray  # (T,) frames with a person (the others are interpolated bodies)
    reprojection_px: np.ndarray  # (T,) crop pixels, NaN where not observed
    mask_iou: np.ndarray  # (T,) NaN where not observed
    body_height: float  # metres, the fitted shape's height
    seconds: float
    pose_model: str  # MediaPipe model of the fit's looks at the crops: "heavy" or "full"


def run_fit(out_dir: Path, body_model: str = "anny", model_path: Path | None = None, device: str = "cpu",
            on_status: Callable[[str], None] = lambda _: None,
            on_progress: Callable[[int, int], None] = lambda *_: None, height: float | None = None) -> FitResult:
    """Fit the body to the preprocessed frames in `out_dir` and write body/ (params.npz, OBJs);
    `height` (metres) holds the body to the person's known height."""
    run = RunFolder(out_dir)
    quiet_warp()  # before anything imports anny
    from humanvid.body import create_body_model
    from humanvid.body.fitting import FitSettings, KeypointObservations, fit_body_sequence
    from humanvid.exchange.body_params import save_body_params
    from humanvid.body.silhouette import SilhouetteObservations, silhouette_targets

    started = time.perf_counter()
    observations = load_observations(run)
    if body_model == "anny":
        from humanvid.body.anny_model import anny_cache_is_built

        if not anny_cache_is_built():
            on_status("building the Anny body model cache (once, about a minute)")
    body = create_body_model(body_model, model_path).to(device)
    on_status("more looks at the crops")
    looked = look_at_crops(run, observations, on_progress)
    fx, fy, cx, cy = (float(v) for v in observations.intrinsics)
    keypoints = KeypointObservations(
        pixels=torch.tensor(looked.pixels, dtype=torch.float32),
        visibility=torch.tensor(observations.visibility, dtype=torch.float32),
        world_landmarks=torch.tensor(looked.world, dtype=torch.float32),
        fx=fx, fy=fy, cx=cx, cy=cy,
        crop_sides=torch.tensor(CROP_SIZE / observations.affines[:, 0, 0], dtype=torch.float32),
    )
    targets = [silhouette_targets(mask) for mask in observations.masks]
    silhouettes = SilhouetteObservations(
        outside_distance=torch.tensor(np.stack([t[0] for t in targets])),
        boundary=torch.tensor(np.stack([t[1] for t in targets])),
        affines=torch.tensor(mask_affines(observations.affines), dtype=torch.float32),
        available=torch.tensor(observations.found),
    )
    on_status("fitting the body")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small batched problems: a second thread mostly waits (measured 0.26 vs 0.38 CPU s/frame)
    try:
        fit = fit_body_sequence(body, keypoints, FitSettings(subject_height=height), progress=on_progress,
                                silhouettes=silhouettes)
    finally:
        torch.set_num_threads(threads)
    save_body_params(run.body_params_path, body, fit.params, observations.frames,
                     fit.observed.cpu().numpy())
    on_status("writing body meshes")
    ious = write_bodies(run, body, fit.params, observations)
    with torch.no_grad():
        body_height = float(body.rest_height(fit.params.shape))
    return FitResult(fit.observed.cpu().numpy(), fit.reprojection_crop_px.cpu().numpy(), ious, body_height,
                     time.perf_counter() - started, looked.pose_model)


def quiet_warp() -> None:
    """Anny computes with NVIDIA Warp, which prints a banner on stdout when it starts."""
    try:
        import warp

        warp.config.log_level = warp.LOG_ERROR if hasattr(warp, "LOG_ERROR") else 40
        warp.config.quiet = True  # older Warp releases
    except ImportError:
        pass


@torch.no_grad()
def write_bodies(run: RunFolder, body, params, observations: Observations, batch: int = 16) -> np.ndarray:
    """Write body/NNNNNN.obj for every frame; returns the (T,) silhouette IoU (NaN without a mask)."""
    faces = body.faces.cpu().numpy()
    ious = np.full(len(observations.frames), np.nan)
    for start in range(0, len(observations.frames), batch):
        rows = list(range(start, min(start + batch, len(observations.frames))))
        vertices = body(params.index(rows)).vertices.cpu().numpy()
        for row, verts in zip(rows, vertices):
            write_obj(run.body_mesh_path(observations.frames[row]), verts, faces)
            if observations.found[row]:
                camera = crop_camera(observations.intrinsics, mask_affines(observations.affines[row]))
                silhouette = rasterize_silhouette(verts, faces, camera, SILHOUETTE_SIZE)
                ious[row] = mask_iou(silhouette, observations.masks[row])
    return ious
