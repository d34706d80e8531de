"""Run the stages for one input into OUT/<name>/, resumably, and keep run.json true.

Stages that exist: preprocess. Body fitting (`fit`) and meshing (`mesh`) are
not built yet; asking for them is an error, not a silent no-op.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from humanvid import __version__, atomic
from humanvid.errors import HumanvidError
from humanvid.inputs import Job
from preprocessing.camera import Camera
from preprocessing.detections import frame_name
from preprocessing.progress import Progress, SilentProgress
from preprocessing.stage import clear_work, run_preprocess
from preprocessing.video import FrameSelection, MediaInfo, probe

STAGES = ("preprocess", "fit", "mesh")
AVAILABLE_STAGES = ("preprocess",)
PREPROCESS_FORMAT = 1  # bump when preprocessing output changes for the same settings
GENERATED = ("run.json", "keypoints.json", "camera.json", "crops", "masks", "body", "meshes", ".work")


@dataclass(frozen=True)
class Settings:
    """What the user chose; everything that changes outputs goes into the fingerprint."""

    selection: FrameSelection = FrameSelection()
    focal: float | None = None
    until: str = "preprocess"
    device: str = "cpu"
    overwrite: bool = False

    def as_dict(self) -> dict:
        return {
            "start": self.selection.start, "end": self.selection.end, "every": self.selection.every,
            "max_frames": self.selection.max_frames, "focal": self.focal, "until": self.until, "device": self.device,
        }


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
    """Delete what humanvid wrote into `out_dir` (for --overwrite); other files stay."""
    for name in GENERATED:
        path = out_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


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
        _discard_failed_run(out_dir, existed)
    finally:
        result.seconds = time.perf_counter() - started
    return result


def _discard_failed_run(out_dir: Path, existed: bool) -> None:
    """After a failed input, leave the output folder as it was before (nothing half-made)."""
    if not existed:
        shutil.rmtree(out_dir, ignore_errors=True)
        return
    clear_work(out_dir)
    manifest = read_manifest(out_dir)
    if manifest is not None and manifest.get("stages", {}).get("preprocess", {}).get("status") == "running":
        (out_dir / "run.json").unlink(missing_ok=True)


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

    camera = Camera.for_frame(info.width, info.height, settings.focal)
    done = (previous is not None and previous.get("stages", {}).get("preprocess", {}).get("status") == "complete"
            and _outputs_complete(out_dir, previous))
    if done:
        result.resumed = True
        result.frames_total = previous["summary"]["frames_total"]
        result.frames_ok = previous["summary"]["frames_ok"]
        return

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
    result.frames_total = len(status)
    result.frames_ok = sum(s == "ok" for s in status)
    manifest["input"]["frames_decoded"] = stage.detections.decoded
    manifest["stages"]["preprocess"] = {
        "status": "complete",
        **{k: round(v, 3) for k, v in stage.timings.items()},
        "frames_per_s": round(result.frames_total / max(sum(stage.timings.values()), 1e-9), 2),
    }
    manifest["stages"]["fit"] = {"status": "not available in this version"}
    manifest["stages"]["mesh"] = {"status": "not available in this version"}
    manifest["quality"] = {"crop_center_jitter_px": round(stage.jitter_px, 3)}
    manifest["summary"] = {
        "frames_total": result.frames_total,
        "frames_ok": result.frames_ok,
        "no_person": sum(s == "no_person" for s in status),
        "failed": sum(s.startswith("failed") for s in status),
    }
    manifest["frames"] = [{"frame": int(i), "status": s} for i, s in zip(stage.detections.indices, status)]
    atomic.write_json(out_dir / "run.json", manifest)
    clear_work(out_dir)
