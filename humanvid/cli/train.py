"""`humanvid train`: fit the occupancy network to synthetic samples (see humanvid synth)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from humanvid.cli.device import check_device
from humanvid.errors import HumanvidError


@click.command("train")
@click.option("--data", type=click.Path(path_type=Path, exists=True, file_okay=False), required=True,
              help="Folder of samples: its *train subfolders (train/, loose-train/) and *val subfolders, or all of it.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Checkpoint to write (.pt).")
@click.option("--steps", type=click.IntRange(min=1), default=20_000, show_default=True)
@click.option("--batch", type=click.IntRange(min=1), default=4, show_default=True, help="Crops per step.")
@click.option("--points", type=click.IntRange(min=16), default=2048, show_default=True,
              help="Occupancy samples per crop and step.")
@click.option("--lr", "learning_rate", type=float, default=1e-3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--features", type=click.Choice(["image", "image+keypoints", "image+keypoints+sdf"]),
              default="image+keypoints", show_default=True,
              help="Which point features the network uses (image only, and + body SDF: the ablations).")
@click.option("--residual", is_flag=True,
              help="With the body SDF: learn a correction of the body's own occupancy (network v2).")
@click.option("--hidden", type=click.IntRange(min=8), default=64, show_default=True, help="MLP width.")
@click.option("--context-levels", type=click.IntRange(0, 4), default=0, show_default=True,
              help="Image encoder levels below 1/8 of the crop (1/16, 1/32, …): a wider view of the person.")
@click.option("--keypoint-noise", type=click.FloatRange(min=0), default=0.02, show_default=True,
              help="Independent jitter of each body keypoint [m].")
@click.option("--field-noise", type=(click.FloatRange(min=0), click.FloatRange(min=0)), default=(0.0, 0.0),
              show_default=True, metavar="SIDE DEPTH",
              help="A smooth error field over the body [m]: sideways and in depth, as a monocular fit errs.")
@click.option("--mirror", is_flag=True, help="Mirror half the samples left–right (crop, scene and keypoints).")
@click.option("--device", default="cpu", show_default=True, help="Where to train: cpu, cuda, cuda:1, …")
@click.option("--workers", type=click.IntRange(0, 64), default=0, show_default=True,
              help="Processes that make batches beside the training (the batches do not depend on it).")
@click.option("--init-encoder", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="Start the image encoder from this checkpoint's (same encoder settings).")
@click.option("--init", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="Start the whole network from this checkpoint (same widths; features it lacks start at zero weight).")
@click.option("--resume", is_flag=True, help="Continue from the checkpoint at --out.")
def train_command(data, out, steps, batch, points, learning_rate, seed, features, residual, hidden, context_levels, keypoint_noise,
                  field_noise, mirror, device, workers, init_encoder, init, resume):
    """Train the occupancy network; reproducible from --seed, resumable with --resume."""
    from humanvid.implicit.model.network import NetworkConfig
    from humanvid.implicit.training.train import TrainConfig, train

    check_device(device)

    if residual and "sdf" not in features:
        click.echo("error: --residual needs --features image+keypoints+sdf (it corrects the body's occupancy)", err=True)
        sys.exit(2)
    network_config = NetworkConfig(keypoint_encoding="keypoints" in features, body_sdf="sdf" in features,
                                   body_residual=residual, hidden=hidden, context_levels=context_levels)
    config = TrainConfig(steps=steps, batch=batch, points=points, learning_rate=learning_rate, seed=seed,
                         keypoint_noise=keypoint_noise, field_noise_side=field_noise[0],
                         field_noise_depth=field_noise[1], mirror=mirror)
    console = Console()
    columns = (TextColumn("train"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[status]}"),
               TextColumn("ETA"), TimeRemainingColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("train", total=steps, status="")

            def on_step(step, loss, metrics):
                shown = f"loss {metrics.get('loss', loss):.4f}"
                if "val_iou" in metrics:
                    shown += f"  val IoU {metrics['val_iou']:.3f}"
                progress.update(task, completed=step, status=shown)

            metrics = train(data, out, config, network_config, resume=resume, on_step=on_step,
                            device=device, workers=workers, init_encoder=init_encoder, init=init)
    except HumanvidError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    console.print(f"wrote {out}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
