"""`humanvid reconstruct`: inputs → OUT/<name>/ through the stages, with a progress bar and a summary table."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from humanvid.cli.device import check_device
from humanvid.cli.progress import RichProgress, progress_bar
from humanvid.constants import BOX_MARGIN, HEIGHT_RANGE
from humanvid.errors import HumanvidError
from humanvid.quiet import native_stderr_silenced
from humanvid.settings import EXPORTS, STAGES, TOPOLOGIES


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), default=Path("humanvid_out"),
              show_default=True, help="Output folder; each input gets OUT/<name>/.")
@click.option("--start", type=click.IntRange(min=0), default=0, show_default=True, help="First frame index to use.")
@click.option("--end", type=click.IntRange(min=1), default=None, help="Stop before this frame index (exclusive).")
@click.option("--every", type=click.IntRange(min=1), default=1, show_default=True, help="Use every N-th frame.")
@click.option("--max-frames", type=click.IntRange(min=1), default=None, help="Use at most this many frames.")
@click.option("--until", type=click.Choice(STAGES), default=STAGES[-1], show_default=True, help="Last stage to run.")
@click.option("--focal", type=click.FloatRange(min=1.0), default=None,
              help="Focal length in pixels of the full frame (default: from a 55° vertical field of view).")
@click.option("--device", default="cpu", show_default=True, help="Torch device for the network stages: cpu or cuda.")
@click.option("--body-model", type=click.Choice(["anny", "smpl", "smplx"]), default="anny", show_default=True,
              help="Body model to fit. SMPL / SMPL-X need --model-path (files from their websites).")
@click.option("--model-path", type=click.Path(path_type=Path), default=None,
              help="SMPL / SMPL-X model file or folder (e.g. SMPL_NEUTRAL.pkl, models/smplx/).")
@click.option("--height", "height", type=click.FloatRange(*HEIGHT_RANGE), default=None, metavar="METRES",
              help="The person's height, if you know it (e.g. 1.82): the body gets the right size and distance. "
                   "Without it the size comes from the body model's prior (~1.7 m).")
@click.option("--export", "exports", default=None, metavar="LIST",
              help="What to write beside the meshes, comma-separated: obj (the meshes' shared texture, "
                   "avatar/texture.png), glb (avatar.glb, rigged and animated), html (viewer.html), preview "
                   "(preview.mp4); none: nothing. Default: all that the run makes possible (with --until fit, "
                   "the preview of the fitted body; with --topology per-frame, the preview).")
@click.option("--resolution", type=click.IntRange(min=32, max=1024), default=256, show_default=True,
              help="Marching-cubes cells along the longest side of the person's box (256: ~1 cm).")
@click.option("--temporal-window", type=click.IntRange(min=0, max=8), default=2, show_default=True,
              help="Fuse each frame's occupancy with this many frames on either side (0: no fusion).")
@click.option("--depth-margin", type=click.FloatRange(min=0.0, max=BOX_MARGIN), default=None, metavar="METRES",
              help="Mesh nothing more than this in front of or behind the fitted body (an image does not show how "
                   "deep the person is, and the network errs thick). Default: 0.07 for a single image (~8 % lower "
                   "Chamfer), none for a video, where the cut flickers. 0: no limit.")
@click.option("--topology", type=click.Choice(TOPOLOGIES), default=TOPOLOGIES[0], show_default=True,
              help="canonical: one clothed mesh per video, fused from every side the video shows, posed per frame "
                   "(every frame's mesh has the same vertices and faces; avatar/ holds it in the rest pose). "
                   "per-frame: each frame's own mesh, fused with its neighbours.")
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None,
              help="Occupancy network weights (default: the shipped checkpoints/occupancy_v1.pt; "
                   "the bare names occupancy_v1_sdf.pt and occupancy_v2.pt pick the other shipped networks, "
                   "which read the body SDF; v2 also learnt loose clothes).")
@click.option("--person", type=click.IntRange(min=0), default=None, metavar="N",
              help="Follow person N instead of the main one (0), numbered in the first frame with people; "
                   "OUT/<name>/people.png shows each person's box and number.")
@click.option("--all-people", is_flag=True,
              help="Reconstruct every person of the first frame with people, each into OUT/<name>/person_K/ "
                   "(a --person K run), beside people.png.")
@click.option("--overwrite", is_flag=True, help="Replace existing outputs instead of resuming.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: in this process, one input after the other. ray: each input as Ray tasks, a long "
                   "video's mesh stage in chunks of frames (needs the ray extra: pip install -e \".[ray]\"; "
                   "OUT must be the same path on every node).")
@click.option("--ray-address", default=None, metavar="ADDRESS",
              help="With --engine ray: the running cluster to use (HOST:PORT, auto or ray://HOST:PORT). "
                   "Default: RAY_ADDRESS if set, else a Ray instance of this machine started for the command.")
@click.option("--mesh-chunks", type=click.IntRange(min=1), default=None, metavar="N",
              help="With --engine ray: split each video's mesh stage into N chunks of frames (1: never). "
                   "Default: one chunk per 48 frames, at most one per CPU (GPU with --device cuda) of the cluster.")
@click.option("-v", "--verbose", is_flag=True, help="Show library log output and full error details.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def reconstruct(inputs, output, start, end, every, max_frames, until, focal, device, body_model, model_path, height,
                exports, resolution, temporal_window, depth_margin, topology, checkpoint, person, all_people, overwrite,
                engine, ray_address, mesh_chunks, verbose, quiet):
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
    from humanvid.settings import Settings
    from preprocessing.video import FrameSelection

    console = Console(quiet=quiet, highlight=False)
    if body_model != "anny" and model_path is None:
        raise click.UsageError(f"--body-model {body_model} needs --model-path: the {body_model.upper()} model "
                               "file or folder, downloaded after registering on its website")
    if model_path is not None and not model_path.exists():
        raise click.UsageError(f"--model-path {model_path}: no such file or folder")
    exports = _exports(exports, until, topology, console)
    if until == "mesh":
        _check_checkpoint(checkpoint)
    if person is not None and all_people:
        raise click.UsageError("--person and --all-people exclude each other")
    if all_people and engine == "ray":
        raise click.UsageError("--all-people runs with --engine local only")
    if end is not None and end <= start:
        raise click.UsageError(f"--end {end} must be greater than --start {start}")
    if engine == "ray":
        from humanvid.engines.ray_engine import check_device_request, import_ray

        check_device_request(device)
        import_ray()  # installed, or one line saying how, before any work
    elif ray_address is not None or mesh_chunks is not None:
        raise click.UsageError("--ray-address and --mesh-chunks need --engine ray")
    else:
        check_device(device)
    try:
        jobs = resolve_inputs(list(inputs))
    except HumanvidError as err:
        raise click.UsageError(str(err)) from None

    settings = Settings(selection=FrameSelection(start, end, every, max_frames), focal=focal, until=until,
                        device=device, overwrite=overwrite, body_model=body_model, model_path=model_path,
                        exports=exports, checkpoint=checkpoint, resolution=resolution,
                        temporal_window=temporal_window, height=height, depth_margin=depth_margin,
                        topology=topology, person=person, all_people=all_people)
    with native_stderr_silenced(not verbose, keep_python_stderr=True):
        errors = Console(stderr=True, highlight=False, soft_wrap=True)
        if engine == "ray":
            from humanvid.engines.ray_engine import RayOptions, run_on_ray

            results = run_on_ray(jobs, output, settings, RayOptions(ray_address, mesh_chunks), console, errors,
                                 quiet, verbose)
        else:
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
    with progress_bar(console) as bars:
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


def _exports(value: str | None, until: str, topology: str, console: Console) -> tuple[str, ...]:
    """The export stage's kinds: the user's list, checked against what the run makes, or the default."""
    from humanvid.export.three_js import three_installed

    possible = {"preprocess": (), "fit": ("preview",)}.get(until, EXPORTS if topology == "canonical" else ("preview",))
    if value is None:
        chosen = possible
        if "html" in chosen and not three_installed():
            console.print("[yellow]viewer.html will not be written: three.js is not installed "
                          "(npm pack three@0.187.0 && humanvid install-viewer three-0.187.0.tgz)[/]", soft_wrap=True)
            chosen = tuple(kind for kind in chosen if kind != "html")
        return chosen
    chosen = tuple(dict.fromkeys(kind.strip() for kind in value.split(",") if kind.strip()))
    if chosen == ("none",):
        return ()
    unknown = [kind for kind in chosen if kind not in EXPORTS]
    if unknown or not chosen:
        raise click.UsageError(f"--export {value}: choose among {', '.join(EXPORTS)}, or none")
    for kind in chosen:
        if kind not in possible:
            needs = ("a fitted body (--until fit or mesh)" if kind == "preview" else
                     "the mesh stage (--until mesh)" if until != "mesh" else "--topology canonical")
            raise click.UsageError(f"--export {kind} needs {needs}")
    if "html" in chosen and not three_installed():
        raise click.UsageError("--export html needs three.js: npm pack three@0.187.0 && "
                               "humanvid install-viewer three-0.187.0.tgz")
    return chosen


def _check_checkpoint(checkpoint: Path | None) -> None:
    """A missing or unreadable network is a usage error before any work starts."""
    from humanvid.implicit.model.checkpoint import DEFAULT_CHECKPOINT, read_checkpoint, resolve_checkpoint

    try:
        read_checkpoint(resolve_checkpoint(checkpoint) if checkpoint is not None else DEFAULT_CHECKPOINT)
    except HumanvidError as err:
        hint = "" if checkpoint is not None else " (the shipped network is missing: reinstall humanvid)"
        raise click.UsageError(f"{err}{hint}") from None


def _summary_table(results) -> Table:
    table = Table(title="humanvid reconstruct")
    table.add_column("input")
    table.add_column("frames ok / total", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("output")
    for r in results:
        frames = f"{r.frames_ok} / {r.frames_total}" if r.frames_total else "–"
        note = " (resumed: already done)" if r.resumed else ""
        people = "" if r.people is None else f" ({r.people} people: person_0 … person_{r.people - 1})"
        output = f"[red]failed: {r.error}[/]" if r.error else f"{r.out_dir}{people}{note}"
        table.add_row(r.job.source.name, frames, f"{r.seconds:.1f}", output)
    return table


