"""Fit one body shape and per-frame poses to a video's MediaPipe landmarks.

In: :class:`KeypointObservations` of T frames (MediaPipe's landmarks in full-frame pixels, its 3D
world landmarks, the camera intrinsics) and optionally the person masks
(:class:`~humanvid.body.silhouette.SilhouetteObservations`). Out: :class:`BodyFit`, the body's
parameters for every frame (one shape; orientation, translation and pose per frame) in the output frame (OpenGL camera axes,
metres), and each frame's reprojection error in crop pixels.

Stages (each an L-BFGS run in torch, batched over frames):
0. per-frame initialisation (initialization.py), frames without a person copied from the
   nearest frame with one;
1. shape: ONE shape for the video, fitted together with the poses of up to
   `shape_frames` frames spread over the video (held to `subject_height` when the user
   knows it: monocular images cannot tell a tall person far away from a short one nearby);
2. per chunk of consecutive frames (overlapping, blended in the overlap), shape fixed:
   global orientation + translation; pose + orientation + translation of each frame on its
   own (no smoothness term), so that fast motions are not held back by their neighbours
   from the start; then the same with all terms;
3. a Gaussian filter over time of orientation, translation and pose: σ `final_smoothing_sigma`
   frames, and per part `final_smoothing_sigmas` (the knees, which move fast, less; the global
   orientation, the middle of the spine and the elbows, which MediaPipe's noise shakes more than
   they move, more); where a limb's landmarks show that the filter cut a fast motion short, that limb
   (and the joints above it) takes the pose of a lighter filter instead (`motion_gate`,
   temporal_filter.evidence_gated).

Terms: robust (Geman-McClure) reprojection of the 33 keypoints in crop pixels, weighted
by MediaPipe's visibility and the model's keypoint weights; agreement of limb and torso
directions with MediaPipe's 3D world landmarks (turned from its line of sight to the camera's
axes, initialization.py; the fit stage hands in their average over MediaPipe's looks at the
frame and at its crop, world_landmarks.py); pose prior and joint limits; shape prior
and limits; temporal smoothness (second differences of the 3D keypoints). Frames without a
person have no data term and are carried by their neighbours through the smoothness term.

With `silhouettes` (silhouette.py): the body should stay inside the person mask, and
the mask's outline should be reached by the body (robust, weaker: clothes widen masks).

Inside the L-BFGS loops the body is evaluated through `BodyModel.prepare_fit` /
`fit_forward`: only the keypoints and every `silhouette_vertex_stride`-th vertex, which for
Anny is exact and ~5x cheaper than a full forward (anny_fast.py).

Design note: jitter is taken out by the filter after the fit, not by a stronger smoothness term,
which makes the bodies lag (raised tenfold: MPJPE 94.5 → 108.8 mm on the synthetic clips). The filter's
own cost on a fast motion (a tennis serve's arms) is undone by the evidence gate: frames of tennis.mp4's
serve (100–249) with every visible part of the mesh whole 74 → 91 of 150. Each
setting's value, the measurement that chose it and what else was tried: docs/fitting_tuning.md.
"""

from __future__ import annotations

import dataclasses
import time
from types import MappingProxyType
from typing import Callable, Mapping

import torch

from humanvid.body.fitting_losses import (
    acceleration_loss,
    crop_sides_from_landmarks,
    direction_loss,
    reprojection_error_px,
    reprojection_loss,
)
from humanvid.body.initialization import initialize_from_landmarks, mediapipe_world_to_camera, solve_translation
from humanvid.body.model import BodyModel, BodyParams
from humanvid.body.rotations import nearest_axis_angles, principal_axis_angles, unwrap_axis_angles
from humanvid.body.silhouette import SilhouetteObservations, boundary_candidates, silhouette_losses
from humanvid.body.temporal_filter import box_kernel, evidence_gated, final_filter, smoothed
from humanvid.constants import CROP_SIZE, HEIGHT_RANGE
from humanvid.errors import HumanvidError
from humanvid.projection import intrinsic_matrix, project


@dataclasses.dataclass
class KeypointObservations:
    """What preprocessing tells about each of T frames.

    Attributes:
        pixels: (T, 33, 2) landmark positions in full-frame pixels (NaN without a person).
        visibility: (T, 33) MediaPipe visibility in [0, 1] (NaN or 0 without a person).
        world_landmarks: (T, 33, 3) MediaPipe world landmarks, MediaPipe axes (y down).
        fx, fy, cx, cy: full-frame intrinsics of the OpenGL camera.
        crop_sides: optional (T,) side of each frame's crop in full-frame pixels; estimated
            from the landmarks when None.
    """

    pixels: torch.Tensor
    visibility: torch.Tensor
    world_landmarks: torch.Tensor
    fx: float
    fy: float
    cx: float
    cy: float
    crop_sides: torch.Tensor | None = None

    @property
    def observed(self) -> torch.Tensor:
        """(T,) frames with a person."""
        seen = torch.isfinite(self.pixels).all(dim=-1) & (torch.nan_to_num(self.visibility) > 0)
        return seen.sum(dim=1) >= 4




# The final filter's σ (frames) of the parts that differ from final_smoothing_sigma.
PART_SMOOTHING_SIGMAS = MappingProxyType({"global_orient": 2.0, "spine": 3.0, "forearm": 3.0, "shin": 1.0})


@dataclasses.dataclass
class FitSettings:
    """Settings of :func:`fit_body_sequence` (stages and terms: module docstring).

    Iterations are L-BFGS iterations per run; weights multiply the objective's terms
    (fitting_losses.py, priors.py, silhouette.py). The defaults are the settings in force; each
    one's evidence is in docs/fitting_tuning.md.
    """

    chunk_size: int = 48  # frames optimised together
    chunk_overlap: int = 8  # frames shared by consecutive chunks, blended linearly
    shape_frames: int = 24  # frames spread over the video fitted with the one shape
    fit_shape: bool = True  # False: keep the prior's mean shape
    shape_iterations: int = 100
    global_iterations: int = 10  # orientation + translation only
    frame_pose_iterations: int = 50  # per frame, no smoothness term
    pose_iterations: int = 50  # all terms
    robust_sigma: float = 30.0  # crop pixels
    reprojection_weight: float = 1.0
    direction_weight: float = 0.5
    pose_prior_weight: float = 0.045
    limit_weight: float = 100.0  # joint limits and shape limits
    shape_prior_weight: float = 0.05
    acceleration_weight: float = 500.0  # on the keypoints' squared second differences [m² / frame⁴]
    init_smoothing_radius: int = 3  # frames, box filter over the per-frame starts
    final_smoothing_sigma: float = 1.5  # frames; 0: the whole final filter off
    # frames, parts with their own σ in the final filter (temporal_filter.final_filter)
    final_smoothing_sigmas: Mapping[str, float] = dataclasses.field(default_factory=lambda: dict(PART_SMOOTHING_SIGMAS))
    # crop px: where a limb's keypoints lie this much further from their landmarks under the final filter than
    # under a lighter one (its σ times motion_gate_light), the lighter one's pose is taken (evidence_gated); None: off
    motion_gate: tuple[float, float] | None = (0.5, 1.5)
    motion_gate_light: float = 0.67
    silhouette_weight: float = 2.0  # body inside the mask (with silhouettes)
    coverage_weight: float = 0.5  # mask outline reached by the body
    silhouette_sigma: float = 20.0  # mask pixels
    silhouette_vertex_stride: int = 8  # every n-th vertex is projected
    coverage_candidates: int = 32  # body points searched per outline point, chosen once per L-BFGS run; 0: all
    subject_height: float | None = None  # metres, the person's known height; None: the shape prior decides
    height_weight: float = 1e4  # per m² of height error in the shape stage (1 cm off costs 1)


@dataclasses.dataclass
class BodyFit:
    """Result for T frames.

    Attributes:
        params: BodyParams of the T frames (detached), shape (1, S) shared.
        observed: (T,) frames that had a person (others are interpolated).
        reprojection_crop_px: (T,) weighted mean keypoint reprojection error in crop pixels
            (NaN for frames without a person).
        seconds: wall time of the fit.
    """

    params: BodyParams
    observed: torch.Tensor
    reprojection_crop_px: torch.Tensor
    seconds: float


@dataclasses.dataclass
class _FrameData:
    pixels: torch.Tensor
    weights: torch.Tensor
    visibility: torch.Tensor
    world: torch.Tensor
    crop_sides: torch.Tensor
    silhouettes: SilhouetteObservations | None = None

    def index(self, frames) -> "_FrameData":
        return _FrameData(
            self.pixels[frames], self.weights[frames], self.visibility[frames], self.world[frames],
            self.crop_sides[frames], None if self.silhouettes is None else self.silhouettes.index(frames),
        )  # fmt: skip


def fit_body_sequence(
    body: BodyModel,
    observations: KeypointObservations,
    settings: FitSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
    silhouettes: SilhouetteObservations | None = None,
) -> BodyFit:
    """Fit `body` to a whole video's landmarks (see module docstring).

    Args:
        progress: called as progress(frames_done, frames_total) after each chunk.
        silhouettes: optional person-mask targets of the same T frames (silhouette.py).
    Raises:
        HumanvidError: no frame has a person.
    """
    settings = settings or FitSettings()
    if settings.subject_height is not None and not HEIGHT_RANGE[0] <= settings.subject_height <= HEIGHT_RANGE[1]:
        raise HumanvidError(f"a person's height must be between {HEIGHT_RANGE[0]} and {HEIGHT_RANGE[1]} m, "
                            f"got {settings.subject_height:g}")
    started = time.perf_counter()
    dtype = body.dtype
    observed = observations.observed
    if not bool(observed.any()):
        raise HumanvidError("no person found in any frame: nothing to fit a body to")
    total = observed.shape[0]
    visibility = torch.nan_to_num(observations.visibility.to(dtype)) * observed[:, None]
    pixels = observations.pixels.to(dtype)
    crop_sides = observations.crop_sides
    if crop_sides is None:
        crop_sides = crop_sides_from_landmarks(pixels, visibility)
    data = _FrameData(
        pixels=pixels,
        weights=visibility * body.keypoint_weights,
        visibility=visibility,
        world=mediapipe_world_to_camera(observations.world_landmarks.to(dtype), pixels, observations.fx, observations.fy, observations.cx, observations.cy),
        crop_sides=crop_sides.to(dtype),
        silhouettes=silhouettes,
    )
    intrinsics = (observations.fx, observations.fy, observations.cx, observations.cy)
    camera = torch.tensor(intrinsic_matrix(*intrinsics), dtype=dtype)

    params = _initial_params(body, observations, observed, dtype)
    if settings.fit_shape:
        params.shape = _fit_shape(body, params, data, observed, camera, settings)
        # The body's size changed: place every frame's body again for it.
        with torch.no_grad():
            keypoints = body(BodyParams(params.global_orient, torch.zeros_like(params.translation), params.pose, params.shape)).keypoints
            solved = solve_translation(keypoints, torch.nan_to_num(data.pixels), data.weights, *intrinsics)
        params.translation = torch.where(observed[:, None], solved, params.translation)
        params = _fill_unobserved(params, observed)
    params = smoothed(params, box_kernel(settings.init_smoothing_radius))

    step = max(1, settings.chunk_size - settings.chunk_overlap)
    starts = list(range(0, max(1, total - settings.chunk_overlap), step)) if total > settings.chunk_size else [0]
    previous_end = 0
    for start in starts:
        frames = slice(start, min(start + settings.chunk_size, total))
        chunk = params.index(frames).clone()
        chunk_data = data.index(frames)
        _optimise(body, chunk, chunk_data, camera, settings, ("global_orient", "translation"), settings.global_iterations, temporal=True)
        _optimise(body, chunk, chunk_data, camera, settings, ("global_orient", "translation", "pose"), settings.frame_pose_iterations, temporal=False)
        _optimise(body, chunk, chunk_data, camera, settings, ("global_orient", "translation", "pose"), settings.pose_iterations, temporal=True)
        _write_back(params, chunk, frames, overlap=max(0, previous_end - start))
        previous_end = frames.stop
        if progress is not None:
            progress(frames.stop, total)
    filtered = final_filter(body, params, settings.final_smoothing_sigma, settings.final_smoothing_sigmas)
    if settings.motion_gate is not None and filtered is not params:
        scale = settings.motion_gate_light
        light = final_filter(body, params, settings.final_smoothing_sigma * scale,
                             {part: sigma * scale for part, sigma in settings.final_smoothing_sigmas.items()})
        filtered = evidence_gated(body, light, filtered, torch.nan_to_num(data.pixels), data.weights, data.crop_sides,
                                  camera, settings.motion_gate)
    params = filtered

    with torch.no_grad():
        keypoints = body(params).keypoints
        projected = project(keypoints, camera)
        scale = (CROP_SIZE / data.crop_sides)[:, None, None]
        error = reprojection_error_px(projected * scale, torch.nan_to_num(data.pixels) * scale, data.weights)
    return BodyFit(params.detach(), observed, error, time.perf_counter() - started)


def _initial_params(body: BodyModel, observations: KeypointObservations, observed: torch.Tensor, dtype) -> BodyParams:
    """Per-frame initialisation; frames without a person take the nearest observed frame's."""
    init = initialize_from_landmarks(
        body,
        observations.pixels.to(dtype),
        torch.nan_to_num(observations.visibility.to(dtype)),
        observations.world_landmarks.to(dtype),
        observations.fx, observations.fy, observations.cx, observations.cy,
    )  # fmt: skip
    return _fill_unobserved(init, observed)


def _fill_unobserved(params: BodyParams, observed: torch.Tensor) -> BodyParams:
    """Frames without a person take the parameters of the nearest frame with one."""
    seen = torch.nonzero(observed)[:, 0]
    nearest = seen[(torch.arange(observed.shape[0])[:, None] - seen[None]).abs().argmin(dim=1)]
    # Continuous rotation vectors over time, so that smoothing and blending average rotations.
    return BodyParams(
        unwrap_axis_angles(params.global_orient[nearest]),
        params.translation[nearest],
        unwrap_axis_angles(params.pose[nearest]),
        params.shape,
    )


def _fit_shape(body, params, data, observed, camera, settings) -> torch.Tensor:
    """One shape for the video, from frames spread over it (poses refined with it)."""
    seen = torch.nonzero(observed)[:, 0]
    count = min(settings.shape_frames, len(seen))
    picks = seen[torch.linspace(0, len(seen) - 1, count).round().long().unique()]
    subset = params.index(picks).clone()
    subset_data = data.index(picks)
    _optimise(body, subset, subset_data, camera, settings, ("global_orient", "translation"), settings.global_iterations, temporal=False)
    _optimise(body, subset, subset_data, camera, settings, ("global_orient", "translation", "pose", "shape"), settings.shape_iterations, temporal=False)
    return subset.shape.detach()


def _objective(body, params: BodyParams, data: _FrameData, camera, settings: FitSettings, temporal: bool, prepared,
               candidates: torch.Tensor | None = None, height: float | None = None) -> torch.Tensor:
    keypoints, vertices = body.fit_forward(params, prepared)
    projected = project(keypoints, camera)
    priors = body.prior_energies(params)
    loss = settings.reprojection_weight * reprojection_loss(projected, data.pixels, data.weights, data.crop_sides, settings.robust_sigma).sum()
    loss = loss + settings.direction_weight * direction_loss(keypoints, data.world, data.visibility).sum()
    loss = loss + settings.pose_prior_weight * priors["pose_gaussian"].sum()
    loss = loss + settings.limit_weight * (priors["pose_limits"].sum() + priors["shape_limits"].sum())
    loss = loss + settings.shape_prior_weight * priors["shape_gaussian"].sum()
    if temporal:
        loss = loss + settings.acceleration_weight * acceleration_loss(keypoints)
    if height is not None:
        loss = loss + settings.height_weight * (body.rest_height(params.shape) - height).square()
    if data.silhouettes is not None:
        points = project(vertices, camera)
        inside, coverage = silhouette_losses(points, data.silhouettes, settings.silhouette_sigma, candidates)
        loss = loss + settings.silhouette_weight * inside.sum() + settings.coverage_weight * coverage.sum()
    return loss


def _optimise(body, params: BodyParams, data: _FrameData, camera, settings, names: tuple[str, ...], iterations: int, temporal: bool) -> None:
    """L-BFGS on the named fields of `params`, in place."""
    if iterations <= 0:
        return
    variables = []
    continuous = params.global_orient.detach().clone()  # unwrapped over time, as smoothing wants it
    for name in names:
        value = getattr(params, name).detach().clone()
        if name == "global_orient":  # a full turn reaches angles near 2 pi, where steps stall
            value = principal_axis_angles(value)
        value.requires_grad_(True)
        setattr(params, name, value)
        variables.append(value)
    optimiser = torch.optim.LBFGS(variables, lr=1.0, max_iter=iterations, line_search_fn="strong_wolfe", history_size=20)
    # The loop evaluates keypoints and every n-th vertex only, through the model's cheap path
    # (prepared once for a fixed shape, in the closure when the shape is optimised).
    vertex_ids = torch.arange(0, body.num_vertices, settings.silhouette_vertex_stride, device=body.device)
    if data.silhouettes is None:
        vertex_ids = vertex_ids[:0]
    fixed = candidates = None
    height = settings.subject_height if "shape" in names else None
    with torch.no_grad():
        if "shape" not in names:
            fixed = body.prepare_fit(params.shape, vertex_ids)
        if data.silhouettes is not None and settings.coverage_candidates > 0:
            # Which body points can be nearest to each mask outline point is decided once for
            # the run (the body moves little within it): one search instead of one per evaluation.
            _, vertices = body.fit_forward(params, fixed if fixed is not None else body.prepare_fit(params.shape, vertex_ids))
            candidates = boundary_candidates(project(vertices, camera), data.silhouettes, settings.coverage_candidates)

    def closure():
        optimiser.zero_grad()
        prepared = fixed if fixed is not None else body.prepare_fit(params.shape, vertex_ids)
        loss = _objective(body, params, data, camera, settings, temporal, prepared, candidates, height)
        loss.backward()
        return loss

    optimiser.step(closure)
    for name in names:
        setattr(params, name, getattr(params, name).detach())
    params.global_orient = nearest_axis_angles(params.global_orient, continuous)


def _write_back(params: BodyParams, chunk: BodyParams, frames: slice, overlap: int) -> None:
    """Copy a chunk's result into the sequence, blending linearly over the first `overlap`
    frames with what the previous chunk left there."""
    length = frames.stop - frames.start
    blend = torch.ones(length, dtype=chunk.pose.dtype)
    if overlap > 0:
        blend[:overlap] = torch.linspace(0.0, 1.0, overlap + 2, dtype=chunk.pose.dtype)[1:-1]
    for name in ("global_orient", "translation", "pose"):
        old = getattr(params, name)[frames]
        new = getattr(chunk, name)
        weight = blend.reshape(-1, *([1] * (new.dim() - 1)))
        getattr(params, name)[frames] = (1.0 - weight) * old + weight * new
