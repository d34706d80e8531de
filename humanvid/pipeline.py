"""Run the stages for one input into OUT/<name>/, resumably, and keep run.json true.

Stages, in order: preprocess (crops, masks, landmarks), fit (one body per frame)
and mesh (one clothed mesh per frame). Each stage records a fingerprint of what
it was made from; a rerun skips what matches and redoes what does not.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from humanvid import __version__, atomic
from humanvid.errors import HumanvidError
from humanvid.camera import Camera
from humanvid.inputs import Job
from preprocessing.detections import frame_name
from preprocessing.progress import Progress, SilentProgress
from preprocessing.stage import clear_work, run_preprocess
from preprocessing.video import FrameSelection, MediaInfo, probe

STAGES = ("preprocess", "fit", "mesh")
AVAILABLE_STAGES = ("preprocess", "fit", "mesh")
PREPROCESS_FORMAT = 1  # bump when preprocessing output changes for the same settings
FIT_FORMAT = 7  # bump when fitting output changes for the same settings
MESH_FORMAT = 3  # bump when meshing output changes for the same settings
# Depth band (--depth-margin), metres, as humanvid.implicit.reconstruct's (the pipeline does not import torch):
VIDEO_DEPTH_MARGIN = 0.0  # none: the cut follows each frame's body and would flicker
PHOTO_DEPTH_MARGIN = 0.07  # a single frame has nothing to flicker, and the network errs thick
TRASH_PREFIX = ".humanvid-old-"  # outputs replaced by --overwrite, being deleted
GENERATED = ("run.json", "keypoints.json", "camera.json", "crops", "masks", "body", "meshes", ".work", "preview.mp4")


@dataclass(frozen=True)
class Settings:
    """What the user chose; everything that changes outputs goes into the fingerprint."""

    selection: FrameSelection = FrameSelection()
    focal: float | None = None
    until: str = "mesh"
    device: str = "cpu"
    overwrite: bool = False
    body_model: str = "anny"
    model_path: Path | None = None
    preview: bool = False
    checkpoint: Path | None = None  # occupancy network; None: the shipped checkpoints/occupancy_v1.pt
    resolution: int = 256
    temporal_window: int = 2
    height: float | None = None  # metres, the person's known height (fit stage)
    depth_margin: float | None = None  # metres; None: PHOTO_DEPTH_MARGIN for a single frame, else VIDEO_DEPTH_MARGIN

    def as_dict(self) -> dict:
        return {
            "start": self.selection.start, "end": self.selection.end, "every": self.selection.every,
            "max_frames": self.selection.max_frames, "focal": self.focal, "until": self.until, "device": self.device,
            "body_model": self.body_model, "model_path": None if self.model_path is None else str(self.model_path),
            "preview": self.preview, "checkpoint": None if self.checkpoint is None else str(self.checkpoint),
            "resolution": self.resolution, "temporal_window": self.temporal_window, "height": self.height,
            "depth_margin": self.depth_margin,
        }

    def runs(self, stage: str) -> bool:
        return STAGES.index(stage) <= STAGES.index(self.until)


@dataclass
class JobResult:
    job: Job
    out_dir: Path
    frames_ok: int = 0
    frames_total: int = 0
    seconds: float = 0.0
    error: str | None = None
    resumed: bool = False

    @property
    def succeeded(self) -> bool:
        return self.error is None


def input_fingerprint(info: MediaInfo) -> dict:
    """Identify the input's content cheaply (size and modification time of its files)."""
    files = [Path(f) for f in info.files] if info.files else [Path(info.path)]
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return {"files": len(files), "digest": digest.hexdigest()[:16]}


def preprocess_fingerprint(info: MediaInfo, settings: Settings) -> str:
    key = {
        "format": PREPROCESS_FORMAT, "input": input_fingerprint(info),
        "start": settings.selection.start, "end": settings.selection.end, "every": settings.selection.every,
        "max_frames": settings.selection.max_frames, "focal": settings.focal,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]


def ensure_writable(folder: Path) -> None:
    """Create `folder` and prove a file can be written there, or explain why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe_file = folder / f".humanvid-write-test-{os.getpid()}"
        probe_file.write_bytes(b"")
        probe_file.unlink()
    except OSError as err:
        raise HumanvidError(f"cannot write to output folder {folder} ({err.strerror or err})") from None


def read_manifest(out_dir: Path) -> dict | None:
    try:
        return json.loads((out_dir / "run.json").read_text())
    except (OSError, ValueError):
        return None


def remove_outputs(out_dir: Path) -> None:
    """Delete what humanvid wrote into `out_dir` (for --overwrite); other files stay.

    Folders are moved aside at once and deleted on a background thread (which the
    process waits for before it exits), so the new run need not wait for them.
    """
    trash = None
    for name in GENERATED:
        path = out_dir / name
        if path.is_dir():
            trash = trash or Path(tempfile.mkdtemp(prefix=TRASH_PREFIX, dir=out_dir))
            path.rename(trash / name)
        elif path.exists():
            path.unlink()
    for old in out_dir.glob(f"{TRASH_PREFIX}*"):  # with what a killed run left
        threading.Thread(target=shutil.rmtree, args=(old,), kwargs={"ignore_errors": True}).start()


def _outputs_complete(out_dir: Path, manifest: dict) -> bool:
    frames = [f["frame"] for f in manifest.get("frames", []) if f.get("status") == "ok"]
    return all((out_dir / sub / f"{frame_name(i)}.png").exists() for i in frames for sub in ("crops", "masks"))


def run_job(job: Job, out_root: Path, settings: Settings, progress: Progress = SilentProgress(),
            quiet: bool = True) -> JobResult:
    """Process one input; never raises for problems with the input (they go into the result)."""
    out_dir = out_root / job.name
    result = JobResult(job, out_dir)
    started = time.perf_counter()
    existed = out_dir.exists()
    try:
        _run(job, out_dir, settings, progress, quiet, result)
    except HumanvidError as err:
        result.error = str(err)
        _discard_failed_run(out_dir, existed, str(err))
    finally:
        result.seconds = time.perf_counter() - started
    return result


def _discard_failed_run(out_dir: Path, existed: bool, reason: str) -> None:
    """After a failed input, keep finished stages and leave nothing half-made.

    A folder this run created and that holds no finished stage is removed; a
    stage that was running is marked failed in run.json.
    """
    manifest = read_manifest(out_dir)
    stages = manifest.get("stages", {}) if manifest else {}
    if stages.get("preprocess", {}).get("status") != "complete":
        if not existed:
            shutil.rmtree(out_dir, ignore_errors=True)
            return
        clear_work(out_dir)
        if manifest is not None:
            (out_dir / "run.json").unlink(missing_ok=True)
        return
    for name, stage in stages.items():
        if stage.get("status") == "running":
            manifest["stages"][name] = {"status": f"failed: {reason}"}
    atomic.write_json(out_dir / "run.json", manifest)


def _run(job: Job, out_dir: Path, settings: Settings, progress: Progress, quiet: bool, result: JobResult) -> None:
    info = probe(job.source)
    if settings.selection.start >= info.frame_count and info.kind != "video":
        raise HumanvidError(f"{job.source}: --start {settings.selection.start} is past the last frame "
                            f"(the input has {info.frame_count} frame(s))")
    ensure_writable(out_dir)
    atomic.remove_temporaries(out_dir)
    fingerprint = preprocess_fingerprint(info, settings)
    previous = read_manifest(out_dir)
    if previous is not None and previous.get("fingerprint") != fingerprint:
        if not settings.overwrite:
            raise HumanvidError(f"{out_dir} holds a run with other settings or another input; "
                                "use --overwrite to replace it, or choose another output folder")
        remove_outputs(out_dir)
        previous = None
    elif settings.overwrite:
        remove_outputs(out_dir)
        previous = None

    done = (previous is not None and previous.get("stages", {}).get("preprocess", {}).get("status") == "complete"
            and _outputs_complete(out_dir, previous))
    manifest = previous if done else _preprocess(info, out_dir, settings, fingerprint, progress, quiet)
    manifest["settings"] = settings.as_dict()  # the latest request (stages record what they were made with)
    result.frames_total = manifest["summary"]["frames_total"]
    result.frames_ok = manifest["summary"]["frames_ok"]
    resumed = done
    if settings.runs("fit"):
        resumed = _fit(out_dir, manifest, settings, fingerprint, progress) and resumed
    fit_done = manifest["stages"].get("fit", {}).get("fingerprint")
    if settings.runs("mesh"):
        resumed = _mesh(out_dir, manifest, settings, fit_done, progress) and resumed
    if settings.preview and settings.runs("fit"):
        _preview(info, out_dir, manifest, settings, progress)
    result.resumed = resumed


def _preprocess(info: MediaInfo, out_dir: Path, settings: Settings, fingerprint: str, progress: Progress,
                quiet: bool) -> dict:
    camera = Camera.for_frame(info.width, info.height, settings.focal)
    manifest = {
        "humanvid_version": __version__,
        "fingerprint": fingerprint,
        "input": info.as_dict(),
        "settings": settings.as_dict(),
        "camera": "camera.json",
        "stages": {"preprocess": {"status": "running"}},
    }
    atomic.write_json(out_dir / "run.json", manifest)
    stage = run_preprocess(info, settings.selection, out_dir, camera, fingerprint, progress, quiet)
    status = stage.detections.status
    manifest["input"]["frames_decoded"] = stage.detections.decoded
    manifest["stages"]["preprocess"] = {
        "status": "complete",
        **{k: round(v, 3) for k, v in stage.timings.items()},
        "frames_per_s": round(len(status) / max(sum(stage.timings.values()), 1e-9), 2),
    }
    manifest["stages"]["fit"] = {"status": "not run"}
    manifest["stages"]["mesh"] = {"status": "not run"}
    manifest["quality"] = {"crop_center_jitter_px": round(stage.jitter_px, 3)}
    manifest["summary"] = {
        "frames_total": len(status),
        "frames_ok": sum(s == "ok" for s in status),
        "no_person": sum(s == "no_person" for s in status),
        "failed": sum(s.startswith("failed") for s in status),
    }
    manifest["frames"] = [{"frame": int(i), "status": s} for i, s in zip(stage.detections.indices, status)]
    atomic.write_json(out_dir / "run.json", manifest)
    clear_work(out_dir)
    return manifest


def fit_fingerprint(preprocess: str, settings: Settings) -> str:
    key = {"preprocess": preprocess, "format": FIT_FORMAT, "body_model": settings.body_model,
           "model_path": None if settings.model_path is None else str(Path(settings.model_path).resolve())}
    if settings.height is not None:  # only when given, so that earlier fits keep their fingerprint
        key["height"] = settings.height
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]


def _fit(out_dir: Path, manifest: dict, settings: Settings, preprocess: str, progress: Progress) -> bool:
    """Run (or skip, if done with these settings) the fit stage; True when it was already done."""
    from humanvid.stages.fit import run_fit

    fingerprint = fit_fingerprint(preprocess, settings)
    stage = manifest["stages"].get("fit", {})
    frames = [f["frame"] for f in manifest["frames"]]
    if stage.get("status") == "complete":
        if stage.get("fingerprint") != fingerprint and not settings.overwrite:
            raise HumanvidError(f"{out_dir} holds bodies fitted with another body model or --height, "
                                "or by an older humanvid; "
                                "use --overwrite to replace them, or choose another output folder")
        if stage.get("fingerprint") == fingerprint and (out_dir / "body" / "params.npz").exists() and all(
                (out_dir / "body" / f"{frame_name(i)}.obj").exists() for i in frames):
            return True
    total = len(frames)
    done = [0]

    def on_progress(frames_done: int, frames_total: int) -> None:
        progress.advance(frames_done - done[0])
        done[0] = frames_done

    def on_status(message: str) -> None:
        done[0] = 0
        progress.start(f"fit · {message}", total)

    manifest["stages"]["fit"] = {"status": "running", "fingerprint": fingerprint}
    atomic.write_json(out_dir / "run.json", manifest)
    fit = run_fit(out_dir, settings.body_model, settings.model_path, settings.device, on_status, on_progress,
                  height=settings.height)
    for entry, observed, error, iou in zip(manifest["frames"], fit.observed, fit.reprojection_px, fit.mask_iou):
        entry["body"] = "fitted" if observed else "interpolated"
        if observed:
            entry["reprojection_px"] = round(float(error), 3)
            entry["mask_iou"] = round(float(iou), 4)
    observed = fit.observed.astype(bool)
    manifest["stages"]["fit"] = {
        "status": "complete", "fingerprint": fingerprint, "body_model": settings.body_model,
        "seconds": round(fit.seconds, 3), "seconds_per_frame": round(fit.seconds / max(total, 1), 4),
        "body_height_m": round(fit.body_height, 3), "height_given": settings.height is not None,
        "pose_model": fit.pose_model,
    }
    if fit.pose_model != "heavy":
        progress.warn("MediaPipe's heavy pose model is not installed, so the fit followed the full model's "
                      "less accurate 3D poses; the README's setup installs it (humanvid install-pose-model)")
    manifest["quality"]["reprojection_px_mean"] = round(float(np.nanmean(fit.reprojection_px[observed])), 3) \
        if observed.any() else None
    manifest["quality"]["mask_iou_mean"] = round(float(np.nanmean(fit.mask_iou[observed])), 4) \
        if observed.any() else None
    atomic.write_json(out_dir / "run.json", manifest)
    return False


def checkpoint_path(settings: Settings) -> Path:
    """The network file: the shipped default, a path, or a shipped file's bare name (for CLI and library alike)."""
    from humanvid.implicit.checkpoint import DEFAULT_CHECKPOINT, resolve_checkpoint

    return resolve_checkpoint(settings.checkpoint) if settings.checkpoint is not None else DEFAULT_CHECKPOINT


def depth_margin_for(settings: Settings, frame_count: int) -> float:
    """The depth band the mesh stage uses: the user's, or by default a band for a single frame only."""
    if settings.depth_margin is not None:
        return settings.depth_margin
    return PHOTO_DEPTH_MARGIN if frame_count == 1 else VIDEO_DEPTH_MARGIN


def mesh_fingerprint(fit: str, settings: Settings, depth_margin: float) -> str:
    path = checkpoint_path(settings)
    try:
        weights = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        raise HumanvidError(f"checkpoint {path} not found") from None
    key = {"fit": fit, "format": MESH_FORMAT, "checkpoint": weights, "resolution": settings.resolution,
           "temporal_window": settings.temporal_window, "depth_margin": depth_margin}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]


def _mesh(out_dir: Path, manifest: dict, settings: Settings, fit: str, progress: Progress) -> bool:
    """Run (or resume, or skip) the mesh stage; True when every mesh was already there."""
    from humanvid.implicit.reconstruct import BODY_PRIOR
    from humanvid.stages.mesh import MeshSettings, run_mesh

    depth_margin = depth_margin_for(settings, len(manifest["frames"]))
    fingerprint = mesh_fingerprint(fit, settings, depth_margin)
    stage = manifest["stages"].get("mesh", {})
    meshes = out_dir / "meshes"
    wanted = [f["frame"] for f in manifest["frames"] if f["status"] == "ok"]
    same = stage.get("fingerprint") == fingerprint
    if not same and meshes.exists():  # made from another fit, checkpoint or resolution: make them again
        shutil.rmtree(meshes)
    done = {i for i in wanted if (meshes / f"{frame_name(i)}.obj").exists()} if same else set()
    if same and stage.get("status") == "complete" and len(done) == len(wanted):
        return True
    manifest["stages"]["mesh"] = {"status": "running", "fingerprint": fingerprint}
    atomic.write_json(out_dir / "run.json", manifest)
    progress.start("mesh", len(wanted) - len(done))
    finished = [0]

    def on_progress(frames_done: int, frames_total: int) -> None:
        progress.advance(frames_done - finished[0])
        finished[0] = frames_done

    mesh_settings = MeshSettings(checkpoint_path(settings), settings.resolution, settings.temporal_window,
                                 settings.device, depth_margin, settings.body_model, settings.model_path)
    result = run_mesh(out_dir, mesh_settings, done, on_progress)
    for entry, meshed, faces, watertight, iou in zip(manifest["frames"], result.meshed, result.faces,
                                                     result.watertight, result.mask_iou):
        if entry["frame"] in done:
            continue  # figures of an earlier, interrupted run stay as they were recorded
        entry["mesh"] = "ok" if meshed else "none"
        if meshed:
            entry.update(mesh_faces=int(faces), watertight=bool(watertight), mesh_mask_iou=round(float(iou), 4))
    made = [f for f in manifest["frames"] if f.get("mesh") == "ok"]
    computed = len(wanted) - len(done)
    manifest["stages"]["mesh"] = {
        "status": "complete", "fingerprint": fingerprint, "checkpoint": str(checkpoint_path(settings)),
        "resolution": settings.resolution, "temporal_window": settings.temporal_window,
        "depth_margin": depth_margin, "body_prior": BODY_PRIOR,
        "seconds": round(result.seconds, 3), "seconds_per_frame": round(result.seconds / max(computed, 1), 4),
        **{f"seconds_{part}": round(value, 3) for part, value in result.timings.items()},
    }
    manifest["quality"]["meshes"] = len(made)
    manifest["quality"]["watertight_fraction"] = round(sum(f["watertight"] for f in made) / len(made), 4) \
        if made else None
    manifest["quality"]["mesh_mask_iou_mean"] = round(float(np.mean([f["mesh_mask_iou"] for f in made])), 4) \
        if made else None
    atomic.write_json(out_dir / "run.json", manifest)
    return False


def _preview(info: MediaInfo, out_dir: Path, manifest: dict, settings: Settings, progress: Progress) -> None:
    """preview.mp4: the fitted body drawn over every selected frame."""
    from humanvid.export.preview import body_preview_frames, write_video

    progress.start("preview", len(manifest["frames"]))
    frames = body_preview_frames(info, settings.selection, out_dir, progress.advance)
    write_video(out_dir / "preview.mp4", frames, (info.fps or 30.0) / settings.selection.every)
