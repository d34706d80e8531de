"""Staged fit of a short synthetic clip posed by Anny itself (truth known)."""

import dataclasses

import numpy as np
import pytest
import torch

from humanvid.body.fitting import FitSettings, KeypointObservations, fit_body_sequence
from humanvid.body.fitting_losses import acceleration_loss, geman_mcclure
from humanvid.errors import HumanvidError
from humanvid.landmarks import landmark_indices
from humanvid.projection import intrinsic_matrix, project

CAMERA = (1000.0, 1000.0, 480.0, 360.0)
CAMERA_MATRIX = torch.tensor(intrinsic_matrix(*CAMERA), dtype=torch.float32)
BODY_LANDMARKS = landmark_indices(*(f"{side}_{part}" for part in ("shoulder", "elbow", "wrist") for side in ("left", "right")),
                                  *(f"{side}_{part}" for part in ("hip", "knee", "ankle", "heel", "foot_index")
                                    for side in ("left", "right")))


def _procrustes_error(found, truth):
    """Mean joint error after the best similarity transform, per frame."""
    errors = []
    for x, y in zip(found, truth):
        x0, y0 = x - x.mean(0), y - y.mean(0)
        u, s, vt = torch.linalg.svd(x0.T @ y0)
        d = torch.sign(torch.det(u @ vt))
        sign = torch.tensor([1.0, 1.0, float(d)])
        rotation = u @ torch.diag(sign) @ vt
        scale = (s * sign).sum() / x0.square().sum()
        errors.append((scale * x0 @ rotation - y0).norm(dim=-1).mean())
    return torch.stack(errors)


@pytest.fixture(scope="module")
def clip(anny_body):
    generator = torch.Generator().manual_seed(2)
    frames = 8
    start, end = anny_body.pose_prior.sample(2, generator, scale=0.4)
    s = torch.linspace(0, 1, frames)[:, None, None]
    truth = anny_body.neutral_params(frames)
    truth.pose = (1 - s) * start + s * end
    truth.shape = torch.tensor([[0.3, 0.62, 0.6, 0.4, 0.5, 0.5]])
    truth.global_orient = torch.stack([torch.zeros(frames), torch.linspace(2.9, 3.4, frames), torch.zeros(frames)], 1)  # back to the camera, through 180 degrees
    truth.translation = torch.stack([torch.linspace(-0.2, 0.2, frames), torch.full((frames,), 0.1), torch.full((frames,), -4.0)], 1)
    with torch.no_grad():
        keypoints = anny_body(truth).keypoints
    pixels = project(keypoints, CAMERA_MATRIX) + 0.5 * torch.randn(frames, 33, 2, generator=generator)
    hips = 0.5 * (keypoints[:, 23] + keypoints[:, 24])
    world = (keypoints - hips[:, None]) * torch.tensor([1.0, -1.0, -1.0])
    visibility = torch.ones(frames, 33)
    pixels[4], world[4], visibility[4] = float("nan"), float("nan"), 0.0  # no person in frame 4
    return truth, keypoints, KeypointObservations(pixels, visibility, world, *CAMERA)


QUICK = FitSettings(shape_iterations=15, global_iterations=4, frame_pose_iterations=10, pose_iterations=10)


@pytest.fixture(scope="module")
def quick_fit(anny_body, clip):
    """The clip fitted with QUICK settings (no height given), and the progress calls it made."""
    done = []
    fit = fit_body_sequence(anny_body, clip[2], QUICK, progress=lambda d, t: done.append((d, t)))
    return fit, done


def test_staged_fit_of_a_short_clip(anny_body, clip, quick_fit):
    truth, keypoints, observations = clip
    fit, done = quick_fit
    assert done[-1] == (8, 8)
    assert fit.observed.tolist() == [True] * 4 + [False] + [True] * 3
    assert fit.params.shape.shape == (1, 6)
    with torch.no_grad():
        found = anny_body(fit.params).keypoints
    observed = fit.observed
    assert torch.nanmean(fit.reprojection_crop_px) < 4.0 and torch.isnan(fit.reprojection_crop_px[4])
    # Pose up to scale (monocular: the body's size is only known through the shape prior).
    assert _procrustes_error(found[:, BODY_LANDMARKS], keypoints[:, BODY_LANDMARKS])[observed].mean() < 0.03
    # The frame without a person is carried by its neighbours.
    assert _procrustes_error(found[4:5, BODY_LANDMARKS], keypoints[4:5, BODY_LANDMARKS]).item() < 0.04
    acceleration = (found[2:] - 2 * found[1:-1] + found[:-2])[:, BODY_LANDMARKS].norm(dim=-1).mean()
    assert acceleration < 0.008
    assert anny_body.pose_prior.limit_violation(fit.params.pose).max() < 1e-3


def test_a_known_height_sets_the_size_and_the_distance(anny_body, clip, quick_fit):
    truth, keypoints, observations = clip
    with torch.no_grad():
        height = float(anny_body.rest_height(truth.shape))
    guessed = quick_fit[0]
    told = fit_body_sequence(anny_body, observations, dataclasses.replace(QUICK, subject_height=height + 0.15))
    with torch.no_grad():
        assert float(anny_body.rest_height(told.params.shape)) == pytest.approx(height + 0.15, abs=0.01)
    # A body 15 cm taller explains the same pixels from further away (monocular size and depth go together).
    seen = told.observed
    ratio = told.params.translation[seen, 2] / guessed.params.translation[seen, 2]
    expected = (height + 0.15) / float(anny_body.rest_height(guessed.params.shape))
    assert float(ratio.mean()) == pytest.approx(expected, rel=0.03)
    assert torch.nanmean(told.reprojection_crop_px) < 4.0
    with pytest.raises(HumanvidError, match="height"):
        fit_body_sequence(anny_body, observations, FitSettings(subject_height=3.5))


def test_the_per_frame_stage_follows_each_frame_and_the_smoothness_term_damps(anny_body):
    """Two poses in turn, frame by frame: fitted on their own (no smoothness term), the frames
    follow them; with the smoothness term from the start, the alternation is held back."""
    generator = torch.Generator().manual_seed(5)
    frames = 6
    first, second = anny_body.pose_prior.sample(2, generator, scale=0.5)
    truth = anny_body.neutral_params(frames)
    truth.pose = torch.stack([first if i % 2 == 0 else second for i in range(frames)])
    truth.translation = torch.tensor([[0.0, 0.1, -4.0]]).repeat(frames, 1)
    with torch.no_grad():
        keypoints = anny_body(truth).keypoints
    hips = 0.5 * (keypoints[:, 23] + keypoints[:, 24])
    observations = KeypointObservations(
        project(keypoints, CAMERA_MATRIX), torch.ones(frames, 33), (keypoints - hips[:, None]) * torch.tensor([1.0, -1.0, -1.0]), *CAMERA
    )
    common = dict(fit_shape=False, init_smoothing_radius=0, final_smoothing_sigma=0.0, global_iterations=5)
    errors = {}
    for name, stages in (("per frame", dict(frame_pose_iterations=30, pose_iterations=0)),
                         ("coupled", dict(frame_pose_iterations=0, pose_iterations=30))):
        fit = fit_body_sequence(anny_body, observations, FitSettings(**common, **stages))
        with torch.no_grad():
            found = anny_body(fit.params).keypoints
        errors[name] = _procrustes_error(found[:, BODY_LANDMARKS], keypoints[:, BODY_LANDMARKS]).mean().item()
    assert errors["per frame"] < 0.03
    assert errors["coupled"] > 3.0 * errors["per frame"]


def test_fitting_without_any_person_is_a_clear_error(anny_body):
    nothing = torch.full((3, 33, 2), float("nan"))
    observations = KeypointObservations(nothing, torch.zeros(3, 33), torch.full((3, 33, 3), float("nan")), *CAMERA)
    with pytest.raises(HumanvidError, match="no person"):
        fit_body_sequence(anny_body, observations)


def test_loss_helpers():
    assert geman_mcclure(torch.tensor([0.0, 1e6]), 10.0).tolist() == pytest.approx([0.0, 1.0], abs=1e-3)
    still = torch.zeros(5, 33, 3)
    assert acceleration_loss(still).item() == 0.0
    moving = still.clone()
    moving[2] += 0.01
    assert acceleration_loss(moving).item() > 0.0


def test_chunks_overlap_and_cover_the_clip(anny_body, clip):
    truth, keypoints, observations = clip
    settings = FitSettings(chunk_size=4, chunk_overlap=2, fit_shape=False, global_iterations=2, frame_pose_iterations=2, pose_iterations=3)
    done = []
    fit = fit_body_sequence(anny_body, observations, settings, progress=lambda d, t: done.append(d))
    assert done == [4, 6, 8]
    assert torch.isfinite(fit.params.pose).all() and torch.isfinite(fit.params.translation).all()
    assert torch.nanmean(fit.reprojection_crop_px) < 10.0


def _rasterize(points, faces, size):
    from PIL import Image, ImageDraw

    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    for triangle in points[faces].tolist():
        draw.polygon([tuple(p) for p in triangle], fill=255)
    return np.array(image) > 0


def test_fit_with_silhouettes(anny_body, clip):
    from humanvid.body.silhouette import SilhouetteObservations, silhouette_targets, to_mask_pixels

    truth, keypoints, observations = clip
    frames = [0, 1, 2]
    size = 96
    with torch.no_grad():
        vertices = anny_body(truth.index(frames)).vertices
    # A square "crop" around each person: full-frame pixels -> size x size mask pixels.
    projected = project(vertices, CAMERA_MATRIX)
    centre = 0.5 * (projected.amin(dim=1) + projected.amax(dim=1))
    side = 1.25 * (projected.amax(dim=1) - projected.amin(dim=1)).amax(dim=-1)
    scale = size / side
    affines = torch.zeros(3, 2, 3)
    affines[:, 0, 0] = affines[:, 1, 1] = scale
    affines[:, :, 2] = size / 2 - centre * scale[:, None]
    faces = anny_body.faces.numpy()
    masks = [_rasterize(to_mask_pixels(projected[i : i + 1], affines[i : i + 1])[0].numpy(), faces, size) for i in range(3)]
    distance, outline = zip(*[silhouette_targets(mask, 128) for mask in masks])
    silhouettes = SilhouetteObservations(
        torch.tensor(np.stack(distance)), torch.tensor(np.stack(outline)), affines, torch.ones(3, dtype=torch.bool)
    )
    subset = KeypointObservations(
        observations.pixels[frames], observations.visibility[frames], observations.world_landmarks[frames], *CAMERA
    )
    settings = FitSettings(shape_iterations=8, global_iterations=3, frame_pose_iterations=5, pose_iterations=5)
    fit = fit_body_sequence(anny_body, subset, settings, silhouettes=silhouettes)
    with torch.no_grad():
        found = project(anny_body(fit.params).vertices, CAMERA_MATRIX)
    for i in range(3):
        rendered = _rasterize(to_mask_pixels(found[i : i + 1], affines[i : i + 1])[0].numpy(), faces, size)
        assert (rendered & masks[i]).sum() / (rendered | masks[i]).sum() > 0.8


def test_the_final_filter_damps_jitter_and_keeps_steady_motion():
    from humanvid.body.temporal_filter import gaussian_kernel, smoothed
    from humanvid.body.model import BodyParams

    frames = torch.arange(20, dtype=torch.float64)[:, None]
    steady = frames * torch.tensor([[0.01, -0.02, 0.03]], dtype=torch.float64)  # constant velocity
    jitter = 0.01 * (-1.0) ** frames  # ±1 cm from frame to frame
    shape = torch.zeros(1, 4, dtype=torch.float64)
    filtered = smoothed(BodyParams(steady + jitter, steady + jitter, (steady + jitter).repeat(1, 4), shape),
                        gaussian_kernel(FitSettings().final_smoothing_sigma), linear_ends=True)
    assert FitSettings().final_smoothing_sigma > 0
    for values in (filtered.global_orient, filtered.translation, filtered.pose[:, :3]):
        left = values - steady
        assert left[3:-3].abs().max() < 0.2 * 0.01  # the alternating jitter is mostly gone
        assert torch.allclose(left.mean(dim=0), torch.zeros(3, dtype=torch.float64), atol=1e-3)  # no drift
    smooth = smoothed(BodyParams(steady, steady, steady.repeat(1, 4), shape), gaussian_kernel(1.0), linear_ends=True)
    assert torch.allclose(smooth.translation, steady)  # a steady motion stays as it is, up to the last frame
    assert torch.equal(filtered.shape, shape)
    assert smoothed(BodyParams(steady, steady, steady, shape), gaussian_kernel(0.0)).pose.equal(steady)


def test_the_final_filter_gives_some_parts_their_own_sigma(anny_body):
    from humanvid.body.model import BodyParams
    from humanvid.body.temporal_filter import final_filter

    generator = torch.Generator().manual_seed(0)
    count, joints = 30, len(anny_body.pose_joint_names)
    noisy = BodyParams(0.1 * torch.randn(count, 3, generator=generator, dtype=torch.float64),
                       0.1 * torch.randn(count, 3, generator=generator, dtype=torch.float64),
                       0.1 * torch.randn(count, joints, 3, generator=generator, dtype=torch.float64),
                       torch.zeros(1, 4, dtype=torch.float64))
    settings = FitSettings()
    assert settings.final_smoothing_sigmas["shin"] < settings.final_smoothing_sigma < settings.final_smoothing_sigmas["spine"]
    filtered = final_filter(anny_body, noisy, settings.final_smoothing_sigma, settings.final_smoothing_sigmas)

    def expected(values, sigma):
        """A Gaussian of σ frames (reaching ⌈3σ⌉), the sequence continued beyond its ends by point
        reflection about the end frames (2 x₀ − x_k), written out frame by frame."""
        values = values.numpy()
        reach = int(np.ceil(3 * sigma))
        weights = np.exp(-0.5 * (np.arange(-reach, reach + 1) / sigma) ** 2)
        weights /= weights.sum()

        def at(frame):
            if frame < 0:
                return 2 * values[0] - values[-frame]
            if frame >= len(values):
                return 2 * values[-1] - values[2 * (len(values) - 1) - frame]
            return values[frame]

        return torch.from_numpy(np.stack([sum(w * at(t + k) for w, k in zip(weights, range(-reach, reach + 1)))
                                          for t in range(len(values))]))

    names = list(anny_body.pose_joint_names)
    knees = [names.index(anny_body.initialization_joints[f"{side}_shin"]) for side in ("left", "right")]
    spine = names.index(anny_body.initialization_joints["spine"])
    elbows = [names.index(anny_body.initialization_joints[f"{side}_forearm"]) for side in ("left", "right")]
    others = [i for i in range(joints) if i not in knees + elbows + [spine]]
    # Rotations are filtered as rotations (filtered_rotations): for rotations this small that is the Gaussian of
    # the vectors within 1e-3 rad, while a σ off by half a frame moves them by ~0.05.
    rotations = {"atol": 2e-3, "rtol": 0.0}
    assert torch.allclose(filtered.pose[:, knees], expected(noisy.pose[:, knees], settings.final_smoothing_sigmas["shin"]),
                          **rotations)
    assert torch.allclose(filtered.pose[:, spine], expected(noisy.pose[:, spine], settings.final_smoothing_sigmas["spine"]),
                          **rotations)
    assert torch.allclose(filtered.pose[:, elbows],
                          expected(noisy.pose[:, elbows], settings.final_smoothing_sigmas["forearm"]), **rotations)
    assert torch.allclose(filtered.pose[:, others], expected(noisy.pose[:, others], settings.final_smoothing_sigma),
                          **rotations)
    assert torch.allclose(filtered.global_orient,
                          expected(noisy.global_orient, settings.final_smoothing_sigmas["global_orient"]), **rotations)
    assert torch.allclose(filtered.translation, expected(noisy.translation, settings.final_smoothing_sigma))

    def roughness(values):
        return (values[2:] - 2 * values[1:-1] + values[:-2]).abs().mean()
    # Less smoothing leaves more of the noise: the knees move more from frame to frame than the spine.
    assert roughness(filtered.pose[:, knees]) > 1.5 * roughness(filtered.pose[:, spine])
    assert final_filter(anny_body, noisy, 0.0, settings.final_smoothing_sigmas) is noisy  # σ 0: the whole filter off
    with pytest.raises(ValueError, match="tail"):
        final_filter(anny_body, noisy, 1.5, {"tail": 2.0})


def _arm_sequence(anny_body, angles: torch.Tensor, joint: str):
    """BodyParams of T frames: the body 4 m before the camera, still but for `joint` turned by `angles` (T,)
    radians."""
    params = anny_body.neutral_params(len(angles))
    params.translation[:, 2] = -4.0
    index = list(anny_body.pose_joint_names).index(anny_body.initialization_joints[joint])
    params.pose[:, index, 0] = angles.to(params.pose)
    return params


def _gated(anny_body, raw):
    """raw's final filter gated (FitSettings' gate) by landmarks that raw follows exactly (crop = frame)."""
    from humanvid.body.temporal_filter import evidence_gated, final_filter

    settings = FitSettings()
    with torch.no_grad():
        pixels = project(anny_body(raw).keypoints, CAMERA_MATRIX.to(raw.pose))
    weights = torch.ones(len(pixels), 33, dtype=raw.pose.dtype) * anny_body.keypoint_weights
    filtered = final_filter(anny_body, raw, settings.final_smoothing_sigma, settings.final_smoothing_sigmas)
    light = settings.motion_gate_light
    target = final_filter(anny_body, raw, settings.final_smoothing_sigma * light,
                          {part: sigma * light for part, sigma in settings.final_smoothing_sigmas.items()})
    gated = evidence_gated(anny_body, target, filtered, pixels, weights, torch.full((len(pixels),), 512.0),
                           CAMERA_MATRIX.to(raw.pose), settings.motion_gate)
    with torch.no_grad():
        wrist = landmark_indices("right_wrist")
        error = {name: (project(anny_body(params).keypoints, CAMERA_MATRIX.to(raw.pose))[:, wrist] - pixels[:, wrist])
                 .norm(dim=-1)[:, 0] for name, params in (("filtered", filtered), ("light", target), ("gated", gated))}
    return filtered, gated, error


def test_the_final_filter_gives_a_fast_limb_back_to_its_landmarks(anny_body):
    """A swing too fast for the final filter (the filtered arm misses its landmarks for several frames) takes
    the lighter filter's pose; the frames before the swing keep the final filter's."""
    frames = torch.arange(30, dtype=torch.float64)
    swing = 1.6 * torch.clamp(1.0 - (frames - 16).abs() / 4.0, min=0.0)  # up and down again in 8 frames
    filtered, gated, error = _gated(anny_body, _arm_sequence(anny_body, swing, "right_upper_arm"))
    assert FitSettings().motion_gate is not None
    assert error["filtered"][16] > 20.0  # the filter cuts the swing's peak short
    assert error["light"][16] < 0.75 * error["filtered"][16]
    assert error["gated"][16] < error["light"][16] + 0.5  # the lighter filter's pose at the peak
    assert torch.allclose(gated.pose[:6], filtered.pose[:6], atol=1e-9)  # calm frames: the final filter's
    assert torch.equal(gated.shape, filtered.shape)


def test_the_final_filter_keeps_jitter_out_although_the_jitter_is_in_the_landmarks(anny_body):
    """An elbow shaking ±0.2 rad from frame to frame with its landmarks (MediaPipe's noise, followed by
    the fit): the residual it leaves does not last, so the final filter's pose is kept, although frame by
    frame the filtered wrist misses its landmarks by more than the gate's upper bound on average."""
    frames = torch.arange(30, dtype=torch.float64)
    shaking = 0.6 + 0.2 * (-1.0) ** frames
    filtered, gated, error = _gated(anny_body, _arm_sequence(anny_body, shaking, "right_forearm"))
    assert error["filtered"][5:-5].mean() > FitSettings().motion_gate[1]
    assert torch.allclose(gated.pose, filtered.pose, atol=1e-6)
