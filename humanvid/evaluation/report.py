"""Accuracy of reconstructed meshes (and optionally 3D keypoints) against ground truth: files or folders in,
one report out (what `humanvid evaluate` prints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from humanvid.errors import HumanvidError
from humanvid.exchange.obj import obj_trimesh

MESH_SUFFIXES = (".obj", ".ply", ".stl", ".off", ".glb", ".npz")  # .npz: humanvid synth ground truth
KEYPOINT_KEYS = ("keypoints", "keypoints3d", "joints", "joints3d")


@dataclass
class EvaluationReport:
    """Everything `evaluate` measured: per-frame surface metrics, sequence metrics, keypoint metrics."""

    frames: list[str] = field(default_factory=list)
    chamfer_cm: list[float] = field(default_factory=list)
    p2s_cm: list[float] = field(default_factory=list)
    normal_consistency: list[float] = field(default_factory=list)
    normal_image_error: list[float] = field(default_factory=list)  # empty when not measured
    excess_change_cm: float | None = None
    pred_change_cm: float | None = None  # mean frame-to-frame change of the prediction
    gt_change_cm: float | None = None
    mpjpe_mm: float | None = None
    pa_mpjpe_mm: float | None = None
    accel_error_mm: float | None = None

    def summary(self) -> dict:
        out = {
            "frames": len(self.frames),
            "chamfer_cm": float(np.mean(self.chamfer_cm)) if self.frames else None,
            "p2s_cm": float(np.mean(self.p2s_cm)) if self.frames else None,
            "normal_consistency": float(np.mean(self.normal_consistency)) if self.frames else None,
            "normal_image_error": float(np.mean(self.normal_image_error)) if self.normal_image_error else None,
        }
        for key in ("excess_change_cm", "pred_change_cm", "gt_change_cm", "mpjpe_mm", "pa_mpjpe_mm", "accel_error_mm"):
            out[key] = getattr(self, key)
        return out


def find_mesh_pairs(pred: Path, gt: Path) -> list[tuple[str, Path, Path]]:
    """(name, pred file, gt file) pairs: two files, or two folders matched by file stem (sorted by name).

    A folder without meshes but with a ``meshes/`` subfolder (a humanvid output) is looked into.
    """
    for path in (pred, gt):
        if not path.exists():
            raise HumanvidError(f"{path}: no such file or folder")
    if pred.is_file() and gt.is_file():
        return [(gt.stem, pred, gt)]
    if pred.is_file() != gt.is_file():
        raise HumanvidError(f"{pred} and {gt}: give two mesh files or two folders of meshes")
    pred_files, gt_files = _mesh_files(pred), _mesh_files(gt)
    common = sorted(set(pred_files) & set(gt_files))
    if not common:
        raise HumanvidError(f"no mesh names in common between {pred} ({len(pred_files)} meshes) "
                            f"and {gt} ({len(gt_files)} meshes)")
    return [(name, pred_files[name], gt_files[name]) for name in common]


def _mesh_files(folder: Path) -> dict[str, Path]:
    files = {p.stem: p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in MESH_SUFFIXES}
    if not files and (folder / "meshes").is_dir():
        return _mesh_files(folder / "meshes")
    return files


def load_mesh(path: Path):
    """A triangle mesh from ``path``, or a HumanvidError naming the file."""
    import trimesh

    try:
        if path.suffix.lower() == ".npz":
            from humanvid.synth.groundtruth_io import groundtruth_trimesh

            mesh = groundtruth_trimesh(path)
        else:
            mesh = _load_triangles(path)
    except Exception as err:  # trimesh raises many kinds on bad files
        raise HumanvidError(f"{path}: not a readable mesh ({type(err).__name__}: {err})") from None
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0 or mesh.area <= 0:
        raise HumanvidError(f"{path}: the mesh has no faces")
    return mesh


def load_keypoints(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(T, J, 3) keypoints [m] and optional (T, J) validity from an .npz (or .npy) file."""
    if not path.is_file():
        raise HumanvidError(f"{path}: no such keypoint file")
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as err:
        raise HumanvidError(f"{path}: not a readable .npz/.npy file ({type(err).__name__})") from None
    valid = None
    if isinstance(data, np.lib.npyio.NpzFile):
        keys = [k for k in KEYPOINT_KEYS if k in data.files] or [k for k in data.files if k != "valid"]
        if len(keys) != 1 and not any(k in data.files for k in KEYPOINT_KEYS):
            raise HumanvidError(f"{path}: expected an array named one of {', '.join(KEYPOINT_KEYS)}")
        keypoints = data[keys[0]]
        valid = data["valid"].astype(bool) if "valid" in data.files else None
    else:
        keypoints = data
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.ndim == 2:
        keypoints = keypoints[None]
        valid = None if valid is None else valid.reshape(1, -1)
    if keypoints.ndim != 3 or keypoints.shape[-1] != 3:
        raise HumanvidError(f"{path}: keypoints must have shape (T, J, 3) or (J, 3), got {keypoints.shape}")
    return keypoints, valid


def evaluate_paths(pred: Path, gt: Path, pred_keypoints: Path | None = None, gt_keypoints: Path | None = None,
                   samples: int = 10_000, seed: int = 0, align: str = "none", progress=None,
                   normal_images: bool = False, up: str = "y") -> EvaluationReport:
    """Compare predicted and ground-truth meshes (and keypoints). ``progress(done, total)`` is called per frame.

    normal_images: also measure ICON's rendered normal error, views orbiting the ``up`` axis ("y" or "z").
    """
    from humanvid.evaluation import metrics

    report = EvaluationReport()
    pairs = find_mesh_pairs(pred, gt)
    keypoints = _load_keypoint_pair(pred_keypoints, gt_keypoints)  # checked before the slow part
    if keypoints is not None:
        pk, gk, valid = keypoints
        report.mpjpe_mm = metrics.mpjpe(pk, gk, valid)
        report.pa_mpjpe_mm = metrics.pa_mpjpe(pk, gk, valid)
        if len(pk) >= 3:
            report.accel_error_mm = metrics.acceleration_error(pk, gk, valid)
    pred_surfaces, gt_surfaces = [], []
    for done, (name, pred_path, gt_path) in enumerate(pairs):
        pred_mesh, gt_mesh = load_mesh(pred_path), load_mesh(gt_path)
        if align == "centroid":
            pred_mesh.apply_translation(_area_centroid(gt_mesh) - _area_centroid(pred_mesh))
        pred_surface = metrics.prepare_surface(pred_mesh, samples, seed)
        gt_surface = metrics.prepare_surface(gt_mesh, samples, seed + 2)
        if align == "depth-scale":
            pred_mesh.apply_scale(metrics.best_depth_scale(pred_surface.samples.points, gt_surface.samples.points))
            pred_surface = metrics.prepare_surface(pred_mesh, samples, seed)
        result = metrics.compare_surfaces(pred_surface, gt_surface)
        report.frames.append(name)
        report.chamfer_cm.append(result.chamfer_cm)
        report.p2s_cm.append(result.p2s_cm)
        report.normal_consistency.append(result.normal_consistency)
        if normal_images:
            axis = np.eye(3)["xyz".index(up)]
            report.normal_image_error.append(metrics.normal_image_error(pred_mesh, gt_mesh, up=axis))
        if len(pairs) > 1:
            pred_surfaces.append(pred_surface)
            gt_surfaces.append(gt_surface)
        if progress is not None:
            progress(done + 1, len(pairs))
    if len(pairs) > 1:
        excess, pred_change, gt_change = metrics.excess_surface_change(pred_surfaces, gt_surfaces)
        report.excess_change_cm = excess
        report.pred_change_cm, report.gt_change_cm = float(pred_change.mean()), float(gt_change.mean())

    return report


def _load_keypoint_pair(pred_keypoints: Path | None, gt_keypoints: Path | None):
    """(pred (T, J, 3), gt (T, J, 3), valid (T, J)) or None."""
    if (pred_keypoints is None) != (gt_keypoints is None):
        raise HumanvidError("give both --pred-keypoints and --gt-keypoints, or neither")
    if pred_keypoints is None:
        return None
    pk, pvalid = load_keypoints(pred_keypoints)
    gk, gvalid = load_keypoints(gt_keypoints)
    if pk.shape != gk.shape:
        raise HumanvidError(f"keypoint shapes differ: predicted {pk.shape}, ground truth {gk.shape}")
    valid = _combine(pvalid, gvalid) & np.isfinite(pk).all(-1) & np.isfinite(gk).all(-1)
    return np.nan_to_num(pk), np.nan_to_num(gk), valid


def _combine(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray:
    shape = (a if a is not None else b).shape if (a is not None or b is not None) else None
    if shape is None:
        return np.array(True)
    return (np.ones(shape, bool) if a is None else a) & (np.ones(shape, bool) if b is None else b)


def _area_centroid(mesh) -> np.ndarray:
    area = mesh.area_faces
    return (mesh.triangles_center * area[:, None]).sum(axis=0) / area.sum()


def finite(value):
    """NaN → None, recursively, for strict JSON."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value



def _load_triangles(path: Path):
    """humanvid's own OBJ reader where it applies (one vertex per surface point, whatever the texture's
    seams), else trimesh's."""
    import trimesh

    if path.suffix.lower() == ".obj":
        try:
            return obj_trimesh(path)
        except ValueError:
            pass  # not only triangles: trimesh triangulates
    return trimesh.load(path, force="mesh", process=False)
