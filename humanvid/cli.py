"""The `humanvid` command line."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from humanvid import __version__
from humanvid.errors import HumanvidError
from humanvid.quiet import native_stderr_silenced

STAGE_CHOICES = ("preprocess", "fit", "mesh")


class RichProgress:
    """Progress of one input's stage as a rich bar with frames/s and ETA."""

    def __init__(self, progress: Progress | None, console: Console, label: str):
        self.progress, self.console, self.label = progress, console, label
        self.task = None

    def start(self, phase: str, total: int) -> None:
        if self.progress is None:
            return
        description = f"{self.label} · {phase}"
        if self.task is None:
            self.task = self.progress.add_task(description, total=max(total, 1))
        else:
            self.progress.reset(self.task, total=max(total, 1), description=description)

    def advance(self, count: int = 1) -> None:
        if self.progress is not None and self.task is not None and count:
            self.progress.advance(self.task, count)

    def warn(self, message: str) -> None:
        self.console.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)

    def finish(self) -> None:
        if self.progress is not None and self.task is not None:
            task = self.progress.tasks[self.task]
            self.progress.update(self.task, completed=task.total)


def _rate(task) -> str:
    speed = task.finished_speed or task.speed
    return f"{speed:5.1f} frames/s" if speed else "    … frames/s"


class RateColumn(TextColumn):
    def __init__(self):
        super().__init__("")

    def render(self, task):
        from rich.text import Text

        return Text(_rate(task), style="cyan")


def _progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
        TextColumn("ETA"), TimeRemainingColumn(), TimeElapsedColumn(),
        console=console, transient=False,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="humanvid")
def main() -> None:
    """humanvid: clothed 3D humans from ordinary monocular video.

    \b
    Quick start:
      humanvid reconstruct video.mp4 -o out
    """


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), default=Path("humanvid_out"),
              show_default=True, help="Output folder; each input gets OUT/<name>/.")
@click.option("--start", type=click.IntRange(min=0), default=0, show_default=True, help="First frame index to use.")
@click.option("--end", type=click.IntRange(min=1), default=None, help="Stop before this frame index (exclusive).")
@click.option("--every", type=click.IntRange(min=1), default=1, show_default=True, help="Use every N-th frame.")
@click.option("--max-frames", type=click.IntRange(min=1), default=None, help="Use at most this many frames.")
@click.option("--until", type=click.Choice(STAGE_CHOICES), default=None,
              help="Last stage to run (default: the last stage available in this version).")
@click.option("--focal", type=click.FloatRange(min=1.0), default=None,
              help="Focal length in pixels of the full frame (default: from a 55° vertical field of view).")
@click.option("--device", default="cpu", show_default=True, help="Torch device for the network stages: cpu or cuda.")
@click.option("--body-model", type=click.Choice(["anny", "smpl", "smplx"]), default="anny", show_default=True,
              help="Body model to fit. SMPL / SMPL-X need --model-path (files from their websites).")
@click.option("--model-path", type=click.Path(path_type=Path), default=None,
              help="SMPL / SMPL-X model file or folder (e.g. SMPL_NEUTRAL.pkl, models/smplx/).")
@click.option("--height", "height", type=click.FloatRange(min=0.5, max=2.6),  # humanvid.body.fitting's range
              default=None, metavar="METRES",
              help="The person's height, if you know it (e.g. 1.82): the body gets the right size and distance. "
                   "Without it the size comes from the body model's prior (~1.7 m).")
@click.option("--preview", is_flag=True, help="Also write preview.mp4: the fitted body drawn over the frames.")
@click.option("--resolution", type=click.IntRange(min=32, max=1024), default=256, show_default=True,
              help="Marching-cubes cells along the longest side of the person's box (256: ~1 cm).")
@click.option("--temporal-window", type=click.IntRange(min=0, max=8), default=2, show_default=True,
              help="Fuse each frame's occupancy with this many frames on either side (0: no fusion).")
@click.option("--depth-margin", type=click.FloatRange(min=0.0, max=0.25),  # BOX_MARGIN of humanvid.implicit.reconstruct
              default=None, metavar="METRES",
              help="Mesh nothing more than this in front of or behind the fitted body (an image does not show how "
                   "deep the person is, and the network errs thick). Default: 0.07 for a single image (~8 % lower "
                   "Chamfer), none for a video, where the cut flickers. 0: no limit.")
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None,
              help="Occupancy network weights (default: the shipped checkpoints/occupancy_v1.pt; "
                   "occupancy_v1_sdf.pt names the other shipped network, with the body SDF).")
@click.option("--overwrite", is_flag=True, help="Replace existing outputs instead of resuming.")
@click.option("-v", "--verbose", is_flag=True, help="Show library log output and full error details.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def reconstruct(inputs, output, start, end, every, max_frames, until, focal, device, body_model, model_path, height,
                preview, resolution, temporal_window, depth_margin, checkpoint, overwrite, verbose, quiet):
    """Reconstruct the person in each INPUT.

    An INPUT is a video file, an image, a folder of images (one sequence, in
    natural sort order) or a folder of videos (each becomes OUT/<name>/).
    A rerun with the same settings resumes and skips finished frames.

    \b
    Stages: preprocess (person landmarks, masks, 512×512 crops) → fit (one
    body model over the whole video) → mesh (one clothed, watertight mesh per
    frame, fused over time). Meshes: OUT/<name>/meshes/NNNNNN.obj, numbered by
    source frame, in the camera frame (x right, y up, looking down −z).
    """
    from humanvid.inputs import resolve_inputs
    from humanvid.pipeline import AVAILABLE_STAGES, Settings
    from preprocessing.video import FrameSelection

    console = Console(quiet=quiet, highlight=False)
    until = until or AVAILABLE_STAGES[-1]
    if until not in AVAILABLE_STAGES:
        raise click.UsageError(f"--until {until}: that stage is not built yet in humanvid {__version__}; "
                               f"available: {', '.join(AVAILABLE_STAGES)}")
    if body_model != "anny" and model_path is None:
        raise click.UsageError(f"--body-model {body_model} needs --model-path: the {body_model.upper()} model "
                               "file or folder, downloaded after registering on its website")
    if model_path is not None and not model_path.exists():
        raise click.UsageError(f"--model-path {model_path}: no such file or folder")
    if preview and until == "preprocess":
        raise click.UsageError("--preview draws the fitted body: it needs --until fit")
    if until == "mesh":
        _check_checkpoint(checkpoint)
    if end is not None and end <= start:
        raise click.UsageError(f"--end {end} must be greater than --start {start}")
    check_device(device)
    try:
        jobs = resolve_inputs(list(inputs))
    except HumanvidError as err:
        raise click.UsageError(str(err)) from None

    settings = Settings(FrameSelection(start, end, every, max_frames), focal, until, device, overwrite,
                        body_model, model_path, preview, checkpoint, resolution, temporal_window, height, depth_margin)
    with native_stderr_silenced(not verbose, keep_python_stderr=True):
        errors = Console(stderr=True, highlight=False, soft_wrap=True)
        results = _reconstruct_all(jobs, output, settings, console, errors, quiet, verbose)
    if not quiet:
        console.print(_summary_table(results))
        if until == "preprocess":
            console.print("Stopped after preprocessing (--until preprocess).", soft_wrap=True)
        elif until == "fit":
            console.print("Stopped after body fitting (--until fit).", soft_wrap=True)
    sys.exit(0 if all(r.succeeded for r in results) else 1)


def _reconstruct_all(jobs, output, settings, console, errors, quiet, verbose):
    from humanvid.pipeline import JobResult, run_job

    results = []
    with _progress_bar(console) as bars:
        for job in jobs:
            reporter = RichProgress(None if quiet else bars, console, job.name)
            try:
                result = run_job(job, output, settings, reporter, quiet=not verbose)
            except KeyboardInterrupt:
                errors.print("interrupted; rerun the same command to resume")
                sys.exit(130)
            except Exception as err:  # a bug must not stop the rest of a batch
                result = JobResult(job, output / job.name, error=f"internal error: {type(err).__name__}: {err}")
                if verbose:
                    errors.print(traceback.format_exc(), markup=False)
            if result.succeeded:
                reporter.finish()
            else:
                errors.print(f"[red]error:[/] {result.error}", markup=True)
            results.append(result)
    return results


def _check_checkpoint(checkpoint: Path | None) -> None:
    """A missing or unreadable network is a usage error before any work starts."""
    from humanvid.implicit.checkpoint import DEFAULT_CHECKPOINT, read_checkpoint, resolve_checkpoint

    try:
        read_checkpoint(resolve_checkpoint(checkpoint) if checkpoint is not None else DEFAULT_CHECKPOINT)
    except HumanvidError as err:
        hint = "" if checkpoint is not None else " (the shipped network is missing: reinstall humanvid)"
        raise click.UsageError(f"{err}{hint}") from None


def check_device(device: str) -> None:
    if device == "cpu":
        return
    if not device.startswith("cuda"):
        raise click.BadParameter(f"{device!r}: use cpu or cuda (cuda:N for a given GPU)", param_hint="--device")
    import torch

    if not torch.cuda.is_available():
        raise click.BadParameter("CUDA was requested but torch sees no CUDA GPU; use --device cpu",
                                 param_hint="--device")


def _summary_table(results) -> Table:
    table = Table(title="humanvid reconstruct")
    table.add_column("input")
    table.add_column("frames ok / total", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("output")
    for r in results:
        frames = f"{r.frames_ok} / {r.frames_total}" if r.frames_total else "–"
        note = " (resumed: already done)" if r.resumed else ""
        output = f"[red]failed: {r.error}[/]" if r.error else f"{r.out_dir}{note}"
        table.add_row(r.job.source.name, frames, f"{r.seconds:.1f}", output)
    return table


@main.command("install-pose-model", short_help="Install MediaPipe's heavy pose model (more accurate body fits).")
@click.argument("source", type=click.Path(path_type=Path))
def install_pose_model(source):
    """Install MediaPipe's heavy pose model from SOURCE, for more accurate body fits.

    \b
    SOURCE is the tarball of the npm package @mediapipe/pose (or the
    pose_landmark_heavy.tflite in it); its SHA-256 is checked, then the model
    is copied into mediapipe's package folder:
      npm pack @mediapipe/pose@0.5.1675469404
      humanvid install-pose-model mediapipe-pose-0.5.1675469404.tgz
    """
    from preprocessing.pose_models import install_heavy_model

    try:
        target = install_heavy_model(source)
    except HumanvidError as err:
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"[red]error:[/] {err}")
        sys.exit(1)
    Console(highlight=False, soft_wrap=True).print(f"installed {target}")


def _register_subcommands() -> None:
    from humanvid.evaluation.cli import evaluate_command
    from humanvid.implicit.train_cli import train_command
    from humanvid.synth.cli import sheet_command, synth_command

    for command in (evaluate_command, train_command, synth_command, sheet_command):
        main.add_command(command)


_register_subcommands()

if __name__ == "__main__":
    main()
