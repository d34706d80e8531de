"""What each stage's outputs were made from, as short digests kept in run.json.

A rerun compares them with the request: a stage whose fingerprint matches is skipped, one whose
fingerprint differs is made again (mesh) or refused without --overwrite (preprocess, fit).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from humanvid.errors import HumanvidError
from humanvid.settings import Settings
from preprocessing.video import MediaInfo

PREPROCESS_FORMAT = 5  # bump when preprocessing output changes for the same settings (5: held objects cut beyond unfound hands)
FIT_FORMAT = 9  # bump when fitting output changes for the same settings (9: the final filter's evidence gate)
MESH_FORMAT = 10  # bump when meshing output changes for the same settings (10: the hands follow the mask outline, not the occupancy)
EXPORT_FORMAT = 2  # bump when the export stage's output changes for the same meshes


def _digest(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]


def input_fingerprint(info: MediaInfo) -> dict:
    """Identify the input's content cheaply (size and modification time of its files)."""
    files = [Path(f) for f in info.files] if info.files else [Path(info.path)]
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return {"files": len(files), "digest": digest.hexdigest()[:16]}


def preprocess_fingerprint(info: MediaInfo, settings: Settings) -> str:
    """The frames, the focal length and whom they follow (the main person, or `--person N`)."""
    key = {
        "format": PREPROCESS_FORMAT, "input": input_fingerprint(info),
        "start": settings.selection.start, "end": settings.selection.end, "every": settings.selection.every,
        "max_frames": settings.selection.max_frames, "focal": settings.focal,
    }
    if settings.person is not None:  # only when given, so that the main person's runs keep their fingerprint
        key["person"] = settings.person
    return _digest(key)


def fit_fingerprint(preprocess: str, settings: Settings, pose_model: str) -> str:
    """`pose_model`: MediaPipe's model of the fit's looks at the crops ("heavy", or "full" without it)."""
    key = {"preprocess": preprocess, "format": FIT_FORMAT, "body_model": settings.body_model,
           "model_path": None if settings.model_path is None else str(Path(settings.model_path).resolve())}
    if settings.height is not None:  # only when given, so that earlier fits keep their fingerprint
        key["height"] = settings.height
    if pose_model != "heavy":  # likewise: the heavy model is the one the README's setup installs
        key["pose_model"] = pose_model
    return _digest(key)


def mesh_fingerprint(fit: str, settings: Settings, depth_margin: float) -> str:
    path = settings.checkpoint_path()
    try:
        weights = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        raise HumanvidError(f"checkpoint {path} not found") from None
    return _digest({"fit": fit, "format": MESH_FORMAT, "checkpoint": weights, "resolution": settings.resolution,
                    "temporal_window": settings.temporal_window, "depth_margin": depth_margin,
                    "topology": settings.topology})


def export_fingerprint(mesh: str | None, exports: tuple[str, ...]) -> str:
    return _digest({"mesh": mesh, "format": EXPORT_FORMAT, "exports": sorted(exports)})
