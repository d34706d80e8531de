"""The whole `humanvid reconstruct` on a real video: meshes, their agreement with the video, speed.

    python benchmarks/reconstruct.py [--video PATH [PATH ...]] [--max-frames N] [--temporal-window K] [--checkpoint CKPT]
                                     [--topologies canonical per-frame] [--keep DIR]

Runs the real command (preprocess → fit → mesh with the shipped network) into a fresh folder once
per mesh topology, one after the other, and reads each run.json: frames with a person, meshes
written, watertight fraction, whether all meshes share one topology, mean IoU of each mesh's
silhouette with the MediaPipe mask, the share of mesh vertices farther than 25 cm from the fitted
body, seconds per frame end to end (the whole process: start-up and model loading included) and
by stage (export: the texture, avatar.glb, viewer.html and preview.mp4), peak memory, and avatar.glb's
check: the Khronos validator's errors (tests/tools/validate_gltf.mjs, the README's test setup), its
animation keys against the meshes, and whether trimesh loads it. Writes the `reconstruct-<video>` section of benchmarks/RESULTS.md; with
several inputs, one row each (frames, shared faces, IoU and far vertices) in the `reconstruct-real` section.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from humanvid.exchange.obj import obj_trimesh

from accuracy_scores import FAR, far_share
from common import REAL, REPO, humanvid, run_timed, write_section


def far_and_shared(folder: Path, frames: list[int]) -> tuple[float, bool]:
    """The share of mesh vertices farther than FAR from the fitted body's vertices, over all meshed frames,
    and whether every mesh has the same faces."""
    far, total, faces = 0, 0, None
    same = True
    for frame in frames:
        path = folder / "meshes" / f"{frame:06d}.obj"
        if not path.exists():
            continue
        mesh = obj_trimesh(path)
        body = obj_trimesh(folder / "body" / f"{frame:06d}.obj")
        far, total = far + far_share(mesh, body) * len(mesh.vertices), total + len(mesh.vertices)
        same = same and (faces is None or np.array_equal(faces, mesh.faces))
        faces = mesh.faces if faces is None else faces
    return far / max(total, 1), same


def glb_check(path: Path) -> str:
    """"errors / keys / loads" of a glb, or "—" when the run wrote none."""
    if not path.exists():
        return "—"
    import trimesh

    report = json.loads(subprocess.run(["node", str(REPO / "tests" / "tools" / "validate_gltf.mjs"), str(path)],
                                       capture_output=True, text=True, check=True).stdout)
    data = path.read_bytes()
    length = int.from_bytes(data[12:16], "little")
    document = json.loads(data[20:20 + length])
    keys = document["accessors"][document["animations"][0]["samplers"][0]["input"]]["count"]
    loads = "yes" if len(trimesh.load(path).geometry) else "no"
    return f"{report['issues']['numErrors']} / {keys} / {loads}"


def measure(args: argparse.Namespace, video: Path, topology: str) -> dict:
    with tempfile.TemporaryDirectory() as out:
        extra = ["--temporal-window", args.temporal_window, "--topology", topology]
        if args.max_frames:
            extra += ["--max-frames", args.max_frames]
        if args.checkpoint:
            extra += ["--checkpoint", args.checkpoint]
        timed = run_timed(humanvid("reconstruct", video, "-o", out, "-q", *extra))
        if timed.returncode != 0:
            raise RuntimeError(timed.stderr.strip().removeprefix("error: "))
        folder = Path(out) / video.stem
        run = json.loads((folder / "run.json").read_text())
        far, shared = far_and_shared(folder, [f["frame"] for f in run["frames"] if f.get("mesh") == "ok"])
        glb = glb_check(folder / "avatar.glb")
        if args.keep is not None:
            kept = args.keep / topology if len(args.video) == 1 else args.keep / video.stem / topology
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(folder, kept)
    stages, quality, summary = run["stages"], run["quality"], run["summary"]
    frames = summary["frames_total"]
    preprocess = sum(v for k, v in stages["preprocess"].items() if k.endswith("_s"))
    mesh = stages["mesh"]
    return {
        "frames": f"{summary['frames_ok']} / {quality['meshes']} / {quality['watertight_fraction']:.0%}",
        "shared": "yes" if shared else "no",
        "iou": f"{quality['mesh_mask_iou_mean']:.3f}",
        "far": f"{100 * far:.2f} %",
        "seconds": f"{timed.seconds / frames:.2f}",
        "stages": f"{preprocess / frames:.3f} / {stages['fit']['seconds_per_frame']:.3f} / {mesh['seconds_per_frame']:.3f}",
        "mesh": " / ".join(f"{mesh[f'seconds_{part}'] / max(quality['meshes'], 1):.3f}"
                           for part in ("network", "fusion", "surface", "output")),
        "memory": f"{timed.peak_rss_mb:.0f} MB",
        "export": f"{stages['export']['seconds_per_frame']:.3f}" if stages.get("export", {}).get("seconds") else "—",
        "glb": glb,
        "count": frames, "resolution": mesh["resolution"], "window": mesh["temporal_window"],
        "checkpoint": Path(mesh["checkpoint"]).name,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, nargs="+", default=[REAL / "tennis.mp4"],
                        help="one input (its own section) or several (one row each in the reconstruct-real section)")
    parser.add_argument("--max-frames", type=int, default=None)
    parser.add_argument("--temporal-window", type=int, default=2)
    parser.add_argument("--checkpoint", default=None,
                        help="network to mesh with (a path or a shipped file's name); default: the shipped default")
    parser.add_argument("--topologies", nargs="+", default=["canonical", "per-frame"],
                        choices=["canonical", "per-frame"], help="mesh topologies to run, one after the other")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="also copy each output folder to DIR/<topology> (DIR/<name>/<topology> for several)")
    args = parser.parse_args()
    command = "python benchmarks/reconstruct.py " + " ".join(shlex.quote(str(a)) for a in sys.argv[1:])
    if len(args.video) > 1:
        return several(args, command)
    video = args.video[0]
    try:
        results = {topology: measure(args, video, topology) for topology in args.topologies}
    except RuntimeError as error:
        sys.exit(f"reconstruct failed: {error}")
    rows = [
        ("frames with a person / meshes / watertight", "frames", "all"),
        ("every mesh has the same faces", "shared", "yes (canonical)"),
        ("mesh silhouette vs MediaPipe mask, mean IoU", "iou", "≥ 0.88"),
        (f"mesh vertices farther than {FAR * 100:.0f} cm from the fitted body", "far", "≤ 0.5 %"),
        ("whole command, seconds per frame", "seconds", "≤ 0.9"),
        ("  preprocess / fit / mesh, s per frame", "stages", ""),
        ("  mesh: network / fusion / surface / output, s per frame", "mesh", ""),
        ("peak memory", "memory", ""),
        ("export: texture, glb, viewer, preview, s per meshed frame", "export", "≤ 0.15"),
        ("avatar.glb: validator errors / animation keys / trimesh loads", "glb", "0 / one per mesh / yes"),
    ]
    first = next(iter(results.values()))
    header = "| what | " + " | ".join(f"--topology {t}" for t in results) + " | target |\n"
    header += "|---|" + "---|" * len(results) + "---|\n"
    body = (f"## Whole reconstruction of `{video.name}` ({first['count']} frames, resolution {first['resolution']}, "
            f"temporal window {first['window']}, network `{first['checkpoint']}`)\n\n"
            f"`{command.strip()}` (the topologies run one after the other, each a fresh process from the video)\n\n"
            + header
            + "".join(f"| {what} | " + " | ".join(r[key] for r in results.values()) + f" | {target} |\n"
                      for what, key, target in rows))
    print(body)
    write_section(f"reconstruct-{video.stem}", body)


def several(args: argparse.Namespace, command: str) -> None:
    """One row per input: frames, one topology or not, mask IoU and far vertices per topology."""
    columns = "".join(f" {t}: IoU | {t}: far |" for t in args.topologies)
    table = f"| input | frames with a person | meshes share faces (canonical) |{columns}\n"
    table += "|---|---|---|" + "---|---|" * len(args.topologies) + "\n"
    for video in args.video:
        try:
            results = {topology: measure(args, video, topology) for topology in args.topologies}
        except RuntimeError as error:
            table += f"| `{video.name}` | failed: {error} |\n"
            continue
        first = next(iter(results.values()))
        shared = results["canonical"]["shared"] if "canonical" in results else "—"
        table += (f"| `{video.name}` | {first['frames'].split(' / ')[0]} / {first['count']} | {shared} |"
                  + "".join(f" {r['iou']} | {r['far']} |" for r in results.values()) + "\n")
    body = (f"## Every real input: agreement with the mask and vertices far from the body\n\n`{command.strip()}`\n\n"
            f"far: the share of mesh vertices more than {FAR * 100:.0f} cm from the fitted body (target ≤ 0.5 %); "
            f"IoU: the mesh's silhouette against MediaPipe's mask, mean over the frames.\n\n" + table)
    print(body)
    write_section("reconstruct-real", body)


if __name__ == "__main__":
    main()
