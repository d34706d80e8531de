"""`humanvid evaluate PRED GT`: accuracy of reconstructed meshes (and optionally 3D keypoints) as a table.

``evaluate_command`` is a ``click.Command``; the main CLI registers it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import click
import numpy as np

from humanvid.errors import HumanvidError

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
            mesh = trimesh.load(path, force="mesh", process=False)
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


def _finite(value):
    """NaN → None, recursively, for strict JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def summary_table(report: EvaluationReport):
    from rich.table import Table

    summary = report.summary()
    table = Table(title=f"humanvid evaluate · {summary['frames']} frame(s)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("unit")
    table.add_column("lower is better", justify="center")
    rows = [
        ("Chamfer", summary["chamfer_cm"], "cm", "yes"),
        ("P2S (GT → prediction)", summary["p2s_cm"], "cm", "yes"),
        ("normal consistency", summary["normal_consistency"], "0–1", "no"),
        ("normal image error (4 views)", summary["normal_image_error"], "0–4", "yes"),
        ("excess frame-to-frame change", summary["excess_change_cm"], "cm", "yes"),
        ("  predicted surface change", summary["pred_change_cm"], "cm/frame", ""),
        ("  ground-truth surface change", summary["gt_change_cm"], "cm/frame", ""),
        ("MPJPE", summary["mpjpe_mm"], "mm", "yes"),
        ("PA-MPJPE", summary["pa_mpjpe_mm"], "mm", "yes"),
        ("acceleration error", summary["accel_error_mm"], "mm/frame²", "yes"),
    ]
    for name, value, unit, lower in rows:
        if value is not None:
            table.add_row(name, f"{value:.4f}" if unit in ("0–1", "0–4") else f"{value:.3f}", unit, lower)
    return table


def per_frame_table(report: EvaluationReport):
    from rich.table import Table

    table = Table(title="per frame")
    columns = ["frame", "Chamfer (cm)", "P2S (cm)", "normal consistency"]
    images = bool(report.normal_image_error)
    if images:
        columns.append("normal image error")
    for column in columns:
        table.add_column(column, justify="right" if column != "frame" else "left")
    for i, name in enumerate(report.frames):
        row = [name, f"{report.chamfer_cm[i]:.3f}", f"{report.p2s_cm[i]:.3f}", f"{report.normal_consistency[i]:.4f}"]
        if images:
            row.append(f"{report.normal_image_error[i]:.4f}")
        table.add_row(*row)
    return table


@click.command("evaluate")
@click.argument("pred", type=click.Path(path_type=Path))
@click.argument("gt", type=click.Path(path_type=Path))
@click.option("--pred-keypoints", type=click.Path(path_type=Path), default=None,
              help="Predicted 3D keypoints: .npz with `keypoints` (T, J, 3) in metres [and `valid` (T, J)].")
@click.option("--gt-keypoints", type=click.Path(path_type=Path), default=None,
              help="Ground-truth 3D keypoints, same layout as --pred-keypoints.")
@click.option("--samples", type=click.IntRange(min=100), default=10_000, show_default=True,
              help="Points sampled on each surface.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the surface sampling.")
@click.option("--align", type=click.Choice(["none", "centroid", "depth-scale"]), default="none", show_default=True,
              help="First move each predicted mesh so its surface centroid matches the ground truth's (centroid), "
                   "or scale it about the camera centre to best match it (depth-scale: removes the monocular "
                   "size/distance ambiguity and changes no projection; meshes in the camera frame).")
@click.option("--normal-images/--no-normal-images", default=True, show_default=True,
              help="Also ray-cast both meshes from 4 views and compare their normal images (ICON's 'Normal').")
@click.option("--up", type=click.Choice(["y", "z"]), default="y", show_default=True,
              help="Vertical axis of the meshes (y: humanvid's camera frame; z: Anny's world).")
@click.option("--per-frame", is_flag=True, help="Also print a row per frame.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
              help="Also write all numbers to this JSON file.")
def evaluate_command(pred, gt, pred_keypoints, gt_keypoints, samples, seed, align, normal_images, up, per_frame,
                     json_path):
    """Compare predicted meshes PRED with ground truth GT.

    PRED and GT are two mesh files, or two folders of meshes (OBJ, PLY, …)
    matched by file name; a folder of several frames also gets the temporal
    metric (excess frame-to-frame surface change). Surface metrics follow the
    PIFu/ICON protocol: points sampled uniformly on each surface, distances to
    the other surface; Chamfer is the mean of both directions, P2S is ground
    truth → prediction.
    """
    from rich.console import Console
    from rich.progress import Progress

    console = Console(highlight=False)
    try:
        with Progress(console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task("evaluating", total=None)
            report = evaluate_paths(pred, gt, pred_keypoints, gt_keypoints, samples, seed, align,
                                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                                    normal_images=normal_images, up=up)
    except HumanvidError as err:
        raise click.ClickException(str(err)) from None
    if per_frame:
        console.print(per_frame_table(report))
    console.print(summary_table(report))
    if json_path is not None:
        from humanvid.atomic import write_json

        write_json(json_path, _finite({"summary": report.summary(), "per_frame": asdict(report)}))
