"""`humanvid evaluate PRED GT`: accuracy of reconstructed meshes (and optionally 3D keypoints) as a table."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from humanvid.atomic import write_json
from humanvid.errors import HumanvidError
from humanvid.evaluation.report import EvaluationReport, evaluate_paths, finite


def summary_table(report: EvaluationReport) -> Table:
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


def per_frame_table(report: EvaluationReport) -> Table:
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
        write_json(json_path, finite({"summary": report.summary(), "per_frame": asdict(report)}))
