"""Run the stages for one input into OUT/<name>/, resumably, and keep run.json true.

Stages, in order: preprocess (crops, masks, landmarks), fit (one body per frame),
mesh (one clothed mesh per frame) and export (texture, avatar.glb, viewer.html,
preview.mp4). Each stage records a fingerprint of what it was made from
(humanvid.fingerprints); a rerun skips what matches and redoes what does not.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from humanvid import __version__, atomic
from humanvid.camera import Camera
from humanvid.errors import HumanvidError
from humanvid.evaluation.parts import visible_parts
from humanvid.exchange.run_folder import RunFolder
from humanvid.fingerprints import export_fingerprint, fit_fingerprint, preprocess_fingerprint
from humanvid.inputs import Job
from humanvid.settings import Settings
from preprocessing import pose_models
from preprocessing.people import overview, survey
from preprocessing.progress import Progress, SilentProgress
from preprocessing.stage import run_preprocess
from preprocessing.video import MediaInfo, probe


PEOPLE_OVERVIEW = "people.png"  # each person's box and number (--person N), with --person and --all-people


@dataclass
class JobResult:
    job: Job
    out_dir: Path
    frames_ok: int = 0
    frames_total: int = 0
    seconds: float = 0.0
    error: str | None = None
    resumed: bool = False
    people: int | None = None  # with --all-people: how many people were reconstructed, each into person_K/

    @property
    def succeeded(self) -> bool:
        return self.error is None


def ensure_writable(folder: Path) -> None:
    """Create `folder` and prove a file can be written there, or explain why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe_file = folder / f".humanvid-write-test-{os.getpid()}"
        probe_file.write_bytes(b"")
        probe_file.unlink()
    except OSError as err:
        raise HumanvidError(f"cannot write to output folder {folder} ({err.strerror or err})") from None


def _crops_complete(run: RunFolder, manifest: dict) -> bool:
    return all(run.has_crop(f["frame"]) for f in manifest.get("frames", []) if f.get("status") == "ok")


def run_job(job: Job, out_root: Path, settings: Settings, progress: Progress = SilentProgress(),
            quiet: bool = True) -> JobResult:
    """Process one input; never raises for problems with the input (they go into the result)."""
    if settings.all_people:
        return _run_all_people(job, out_root, settings, progress, quiet)
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


def _run_all_people(job: Job, out_root: Path, settings: Settings, progress: Progress, quiet: bool) -> JobResult:
    """Every person of the first frame with people into OUT/<name>/person_K/ (a `--person K` run each), beside
    people.png; the result sums their frames and carries the first person's error (the others still run)."""
    out_dir = out_root / job.name
    result = JobResult(job, out_dir)
    started = time.perf_counter()
    existed = out_dir.exists()
    try:
        info = probe(job.source)
        people = survey(info, settings.selection, quiet)
        if people is None:
            frames = len(settings.selection.indices(info.frame_count))
            raise HumanvidError(f"{job.source}: no person found in any of {frames} frame(s)")
        ensure_writable(out_dir)
        atomic.write_image(out_dir / PEOPLE_OVERVIEW, overview(people))
    except HumanvidError as err:
        result.error = str(err)
        if not existed:
            shutil.rmtree(out_dir, ignore_errors=True)
        result.seconds = time.perf_counter() - started
        return result
    result.people, result.resumed = len(people.candidates), True
    for number in range(len(people.candidates)):
        person = Job(job.source, f"person_{number}")
        try:
            one = run_job(person, out_dir, replace(settings, person=number, all_people=False), progress, quiet)
        except Exception as err:  # a bug in one person's run must not stop the others
            one = JobResult(person, out_dir / person.name, error=f"internal error: {type(err).__name__}: {err}")
        result.frames_ok += one.frames_ok
        result.frames_total += one.frames_total
        result.resumed = result.resumed and one.resumed
        if one.error is not None and result.error is None:
            result.error = f"person_{number}: {one.error}"
    result.seconds = time.perf_counter() - started
    return result


def _people_overview(info: MediaInfo, out_dir: Path, settings: Settings, fingerprint: str, previous: dict | None,
                     quiet: bool) -> None:
    """For `--person N`: check that the first frame with people shows person N and write people.png (kept
    from an earlier run with the same fingerprint). Nobody found: left to the detection pass to report."""
    path = out_dir / PEOPLE_OVERVIEW
    if path.exists() and previous is not None and previous.get("fingerprint") == fingerprint:
        return
    people = survey(info, settings.selection, quiet)
    if people is None:
        return
    if settings.person >= len(people.candidates):
        count = len(people.candidates)
        raise HumanvidError(f"--person {settings.person}: the first frame with people (frame {people.frame}) shows "
                            f"{count} (numbered 0 to {count - 1}; --all-people reconstructs each)")
    atomic.write_image(path, overview(people))


def _discard_failed_run(out_dir: Path, existed: bool, reason: str) -> None:
    """After a failed input, keep finished stages and leave nothing half-made.

    A folder this run created and that holds no finished stage is removed; a
    stage that was running is marked failed in run.json.
    """
    run = RunFolder(out_dir)
    manifest = run.read_manifest()
    stages = manifest.get("stages", {}) if manifest else {}
    if stages.get("preprocess", {}).get("status") != "complete":
        if not existed:
            shutil.rmtree(out_dir, ignore_errors=True)
            return
        run.clear_work()
        if manifest is not None:
            run.manifest_path.unlink(missing_ok=True)
        return
    for name, stage in stages.items():
        if stage.get("status") == "running":
            manifest["stages"][name] = {"status": f"failed: {reason}"}
    run.write_manifest(manifest)


def _run(job: Job, out_dir: Path, settings: Settings, progress: Progress, quiet: bool, result: JobResult) -> None:
    info = probe(job.source)
    if settings.selection.start >= info.frame_count and info.kind != "video":
        raise HumanvidError(f"{job.source}: --start {settings.selection.start} is past the last frame "
                            f"(the input has {info.frame_count} frame(s))")
    ensure_writable(out_dir)
    atomic.remove_temporaries(out_dir)
    run = RunFolder(out_dir)
    fingerprint = preprocess_fingerprint(info, settings)
    previous = run.read_manifest()
    if previous is not None and previous.get("fingerprint") != fingerprint:
        if not settings.overwrite:
            raise HumanvidError(f"{out_dir} holds a run with other settings or another input; "
                                "use --overwrite to replace it, or choose another output folder")
        run.remove_generated()
        previous = None
    elif settings.overwrite:
        run.remove_generated()
        previous = None
    if settings.person is not None:
        _people_overview(info, out_dir, settings, fingerprint, previous, quiet)

    done = (previous is not None and previous.get("stages", {}).get("preprocess", {}).get("status") == "complete"
            and _crops_complete(run, previous))
    if done:
        run.clear_work()  # a run killed after recording preprocessing but before clearing left it
    manifest = previous if done else _preprocess(info, run, settings, fingerprint, progress, quiet)
    manifest["settings"] = settings.as_dict()  # the latest request (stages record what they were made with)
    result.frames_total = manifest["summary"]["frames_total"]
    result.frames_ok = manifest["summary"]["frames_ok"]
    resumed = done
    if settings.runs("fit"):
        resumed = _fit(run, manifest, settings, fingerprint, progress) and resumed
    if settings.runs("mesh"):
        resumed = _mesh(run, manifest, settings, progress) and resumed
    if settings.runs("mesh") and settings.exports:
        resumed = _export(info, run, manifest, settings, progress) and resumed
    elif "preview" in settings.exports and settings.runs("fit"):
        _preview(info, run, manifest, settings, progress)
    result.resumed = resumed


def _preprocess(info: MediaInfo, run: RunFolder, settings: Settings, fingerprint: str, progress: Progress,
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
    run.write_manifest(manifest)
    stage = run_preprocess(info, settings.selection, run, camera, fingerprint, progress, quiet, settings.person)
    status = stage.detections.status
    manifest["input"]["frames_decoded"] = stage.detections.decoded
    manifest["stages"]["preprocess"] = {
        "status": "complete",
        **{k: round(v, 3) for k, v in stage.timings.items()},
        "frames_per_s": round(len(status) / max(sum(stage.timings.values()), 1e-9), 2),
        "person": stage.detections.person,
    }
    manifest["stages"]["fit"] = {"status": "not run"}
    manifest["stages"]["mesh"] = {"status": "not run"}
    manifest["stages"]["export"] = {"status": "not run"}
    manifest["quality"] = {"crop_center_jitter_px": round(stage.jitter_px, 3)}
    manifest["summary"] = {
        "frames_total": len(status),
        "frames_ok": sum(s == "ok" for s in status),
        "no_person": sum(s == "no_person" for s in status),
        "failed": sum(s.startswith("failed") for s in status),
    }
    manifest["frames"] = [{"frame": int(i), "status": s} for i, s in zip(stage.detections.indices, status)]
    for entry, landmarks in zip(manifest["frames"], stage.detections.landmarks):
        if entry["status"] == "ok":
            entry["parts_visible"] = visible_parts(landmarks, (info.width, info.height))
    run.write_manifest(manifest)
    run.clear_work()
    return manifest


def _fit(run: RunFolder, manifest: dict, settings: Settings, preprocess: str, progress: Progress) -> bool:
    """Run (or skip, if done with these settings) the fit stage; True when it was already done."""
    from humanvid.stages.fit import run_fit

    pose_model = "heavy" if pose_models.heavy_model_installed() else "full"
    fingerprint = fit_fingerprint(preprocess, settings, pose_model)
    stage = manifest["stages"].get("fit", {})
    frames = [f["frame"] for f in manifest["frames"]]
    if stage.get("status") == "complete":
        if stage.get("fingerprint") != fingerprint and not settings.overwrite:
            if stage.get("pose_model", pose_model) != pose_model:
                raise HumanvidError(f"{run.root} holds bodies fitted by following MediaPipe's {stage['pose_model']} "
                                    f"pose model, and the {pose_model} one is installed now; use --overwrite to "
                                    "fit them again, or choose another output folder")
            raise HumanvidError(f"{run.root} holds bodies fitted with another body model or --height, "
                                "or by an older humanvid; "
                                "use --overwrite to replace them, or choose another output folder")
        if stage.get("fingerprint") == fingerprint and run.body_params_path.exists() and all(
                run.body_mesh_path(i).exists() for i in frames):
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
    run.write_manifest(manifest)
    fit = run_fit(run.root, settings.body_model, settings.model_path, settings.device, on_status, on_progress,
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
    run.write_manifest(manifest)
    return False


def _mesh(run: RunFolder, manifest: dict, settings: Settings, progress: Progress) -> bool:
    """Run (or resume, or skip) the mesh stage; True when every mesh was already there."""
    from humanvid.stages.mesh import run_mesh
    from humanvid.stages.mesh_record import ChunkResult, begin_mesh_stage, mesh_settings, record_mesh_stage

    plan = begin_mesh_stage(run, manifest, settings)
    if plan.complete:
        return True
    progress.start("mesh", len(plan.todo))
    finished = [0]

    def on_progress(frames_done: int, frames_total: int) -> None:
        progress.advance(frames_done - finished[0])
        finished[0] = frames_done

    result = run_mesh(run.root, mesh_settings(settings, plan.depth_margin), set(plan.done), on_progress)
    record_mesh_stage(run, manifest, settings, plan, [ChunkResult(plan.todo, result)])
    return False


def _export(info: MediaInfo, run: RunFolder, manifest: dict, settings: Settings, progress: Progress) -> bool:
    """Run (or skip, if done from these meshes with these choices) the export stage; True when skipped."""
    from humanvid.exchange.avatar import canonical_path
    from humanvid.stages.export import export_steps, run_export
    from humanvid.stages.mesh_record import remove_exports

    fingerprint = export_fingerprint(manifest["stages"].get("mesh", {}).get("fingerprint"), settings.exports)
    stage = manifest["stages"].get("export", {})
    if (stage.get("status") == "complete" and stage.get("fingerprint") == fingerprint
            and all((run.root / name).exists() for name in stage.get("files", []))):
        return True
    remove_exports(run, manifest)  # what an earlier export wrote goes, so no stale file stays
    manifest["stages"]["export"] = {"status": "running", "fingerprint": fingerprint}
    run.write_manifest(manifest)
    meshed = [f["frame"] for f in manifest["frames"] if f.get("mesh") == "ok"]
    progress.start("export", export_steps(len(meshed), len(manifest["frames"]), settings.exports,
                                          canonical_path(run).exists()))
    result = run_export(run, info, settings.selection, meshed, len(manifest["frames"]), settings.exports,
                        progress.advance)
    texture = None if result.texture is None else {
        "views": result.texture.views, "seen": round(result.texture.seen, 4),
        "through": round(result.texture.through, 4), "filled": round(result.texture.filled, 4),
        **({"note": "one view: the back takes the front's colour, seen through the body"}
           if result.texture.views == 1 else {}),
    }
    manifest["stages"]["export"] = {
        "status": "complete", "fingerprint": fingerprint, "files": result.written, "notes": result.notes,
        "texture": texture, "seconds": round(result.seconds, 3),
        "seconds_per_frame": round(result.seconds / max(len(meshed), 1), 4),
        **{f"seconds_{part}": round(value, 3) for part, value in result.timings.items()},
    }
    run.write_manifest(manifest)
    return False


def _preview(info: MediaInfo, run: RunFolder, manifest: dict, settings: Settings, progress: Progress) -> None:
    """preview.mp4: the fitted body drawn over every selected frame."""
    from humanvid.export.preview import body_preview_frames, write_video

    progress.start("preview", len(manifest["frames"]))
    frames = body_preview_frames(info, settings.selection, run, progress.advance)
    write_video(run.preview_path, frames, (info.fps or 30.0) / settings.selection.every)
