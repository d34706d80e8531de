"""The ray engine against the local one on this machine, and a long video's mesh stage in chunks.

    python benchmarks/scale.py [--chunks 1 2 4] [--tennis-frames N] [--resolution 256] [--one-thread-reference]
                               [--max-load 1.5] [--out DIR] [--no-write]

1. The 6 synthetic clips (2 test, 4 turn-test, 24 frames; made by `humanvid synth` where missing): the whole
   command (every export) with the local engine, then with `--engine ray` (a Ray instance of this machine,
   started by the command: its start is part of the overhead): wall time, Ray's overhead, and how far the
   outputs are from the local run's (files alike byte for byte, run.json without timings; else the largest
   vertex difference of the OBJs). Ray's one-CPU tasks run torch on one thread, whose float sums differ from
   two threads' by ~0.1 mm: --one-thread-reference adds a local run with OMP_NUM_THREADS=1, which the ray run
   must match byte for byte.
2. tennis.mp4: preprocessed and fitted once (local), then its mesh stage alone (`--export none`) on copies of
   that folder with `--engine ray --mesh-chunks N` for each N: wall time, speed-up over one chunk, the largest
   vertex difference from the meshes of one chunk.

Writes the `scale` section of benchmarks/RESULTS.md. Refuses to run when the 1-minute load average is above
--max-load: the timings would measure other work.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from accuracy_data import ensure_clips
from common import REAL, REPO, humanvid, run_timed, write_section
from humanvid.exchange.obj import read_obj

RUN_TIMINGS = ("seconds", "_s")  # run.json keys that hold timings (prefix, suffix)


def normalised_run(path: Path) -> bytes:
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()
                    if not (k.startswith(RUN_TIMINGS[0]) or k.endswith(RUN_TIMINGS[1]))}
        return [strip(v) for v in value] if isinstance(value, list) else value
    return json.dumps(strip(json.loads(path.read_text())), sort_keys=True).encode()


def compare(ours: Path, reference: Path) -> dict:
    """Files alike byte for byte (run.json without timings), those that differ, those missing on either side,
    and the largest vertex difference [m] of the OBJs that differ."""
    def files(root: Path) -> dict[str, Path]:
        return {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file()}

    a, b = files(ours), files(reference)
    same, differ, worst, retopologised = 0, [], 0.0, []
    for name in sorted(set(a) & set(b)):
        read = normalised_run if name.endswith("run.json") else Path.read_bytes
        if hashlib.sha256(read(a[name])).digest() == hashlib.sha256(read(b[name])).digest():
            same += 1
            continue
        differ.append(name)
        if name.endswith(".obj"):
            x, y = read_obj(a[name]), read_obj(b[name])
            if x.vertices.shape == y.vertices.shape and np.array_equal(x.faces, y.faces):
                worst = max(worst, float(np.abs(x.vertices - y.vertices).max()))
            else:  # another topology: how far any vertex of either is from the other's nearest vertex
                retopologised.append(name)
                far = max(cKDTree(y.vertices).query(x.vertices)[0].max(), cKDTree(x.vertices).query(y.vertices)[0].max())
                worst = max(worst, float(far))
    return {"same": same, "differ": differ, "missing": sorted(set(a) ^ set(b)), "worst_m": worst,
            "retopologised": retopologised}


def describe(result: dict) -> str:
    if not result["differ"] and not result["missing"]:
        return f"all {result['same']} files identical"
    names = result["differ"]
    shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
    text = f"{result['same']} identical, {len(names)} differ ({shown})"
    if result["worst_m"]:
        text += f"; vertices ≤ {result['worst_m'] * 1000:.3f} mm apart"
    if result["retopologised"]:
        text += (f" ({len(result['retopologised'])} OBJs of another vertex count: to the other's nearest vertex; "
                 "a canonical mesh is marched from float sums that differ with the thread count)")
    if result["missing"]:
        text += f"; {len(result['missing'])} missing on one side"
    return text


def timed(label: str, args: list, env: dict | None = None):
    print("running:", label, flush=True)
    before = dict(os.environ)
    os.environ.update(env or {})
    try:
        run = run_timed(humanvid(*args))
    finally:
        os.environ.clear()
        os.environ.update(before)
    if run.returncode != 0:
        raise SystemExit(f"{label} failed ({run.returncode}):\n{run.stderr[-3000:]}")
    print(f"  {run.seconds:.1f} s", flush=True)
    return run


def clips_part(args, out: Path) -> str:
    data = REPO.parent / "data" / "synth"
    clips = ensure_clips(data, 2, args.clip_frames) + ensure_clips(data, 4, args.clip_frames, split="turn-test")
    inputs = out / "inputs"
    shutil.rmtree(inputs, ignore_errors=True)
    inputs.mkdir(parents=True)
    for clip in clips:  # one folder of frames each, under its own name
        (inputs / clip.name).symlink_to(clip.frames[0].parent, target_is_directory=True)
    sources = sorted(inputs.iterdir())
    common = ["--resolution", args.resolution]
    local = timed("local", ["reconstruct", *sources, "-o", out / "local", "-q", *common])
    ray = timed("ray", ["reconstruct", *sources, "-o", out / "ray", "-q", "--engine", "ray", *common])
    rows = [("local", local.seconds, "–", "the reference"),
            ("ray", ray.seconds, f"{(ray.seconds / local.seconds - 1) * 100:+.1f} %",
             describe(merge([compare(out / "ray" / s.name, out / "local" / s.name) for s in sources])))]
    if args.one_thread_reference:
        single = timed("local, one thread", ["reconstruct", *sources, "-o", out / "local1", "-q", *common],
                       {"OMP_NUM_THREADS": "1"})
        rows.append(("local, OMP_NUM_THREADS=1", single.seconds, f"{(single.seconds / local.seconds - 1) * 100:+.1f} %",
                     "ray vs this: " + describe(merge([compare(out / "ray" / s.name, out / "local1" / s.name)
                                                        for s in sources]))))
    frames = len(clips) * args.clip_frames
    table = ["| engine | wall s | vs local | outputs vs local |", "|---|---:|---:|---|"]
    table += [f"| {name} | {seconds:.1f} | {over} | {note} |" for name, seconds, over, note in rows]
    return (f"**{len(clips)} synthetic clips of {args.clip_frames} frames ({frames} frames), the whole command, "
            f"resolution {args.resolution}**\n\n" + "\n".join(table) + "\n")


def merge(results: list[dict]) -> dict:
    return {"same": sum(r["same"] for r in results), "differ": [d for r in results for d in r["differ"]],
            "missing": [m for r in results for m in r["missing"]], "worst_m": max(r["worst_m"] for r in results),
            "retopologised": [m for r in results for m in r["retopologised"]]}


def tennis_part(args, out: Path) -> str:
    video = REAL / "tennis.mp4"
    selection = ["--max-frames", args.tennis_frames] if args.tennis_frames else []
    common = [*selection, "--resolution", args.resolution, "--export", "none"]
    fitted = out / "tennis-fit"
    timed("tennis: preprocess and fit", ["reconstruct", video, "-o", fitted, "-q", "--until", "fit", *common])
    local = out / "tennis-local"
    shutil.rmtree(local, ignore_errors=True)
    shutil.copytree(fitted, local)
    reference = timed("tennis: mesh stage, local engine", ["reconstruct", video, "-o", local, "-q", *common])
    rows, first = [], None
    for chunks in args.chunks:
        folder = out / f"tennis-{chunks}"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(fitted, folder)
        run = timed(f"tennis: mesh stage in {chunks} chunk(s)",
                    ["reconstruct", video, "-o", folder, "-q", "--engine", "ray", "--mesh-chunks", chunks, *common])
        stage = json.loads((folder / "tennis" / "run.json").read_text())["stages"]["mesh"]
        meshes = len(list((folder / "tennis" / "meshes").glob("*.obj")))
        if first is None:
            first = (chunks, run.seconds, folder)
            note = "the reference"
        else:
            note = describe(compare(folder / "tennis" / "meshes", first[2] / "tennis" / "meshes"))
        rows.append(f"| ray, {chunks} chunk(s) | {run.seconds:.1f} | {first[1] / run.seconds:.2f}× | "
                    f"{stage['seconds']:.1f} | {meshes} | {note} |")
    stage = json.loads((local / "tennis" / "run.json").read_text())["stages"]["mesh"]
    rows.append(f"| local engine (torch on every core) | {reference.seconds:.1f} | {first[1] / reference.seconds:.2f}× | "
                f"{stage['seconds']:.1f} | {len(list((local / 'tennis' / 'meshes').glob('*.obj')))} | "
                f"{describe(compare(local / 'tennis' / 'meshes', first[2] / 'tennis' / 'meshes'))} |")
    return (f"**tennis.mp4{f' (first {args.tennis_frames} frames)' if args.tennis_frames else ''}: the mesh stage "
            f"alone (fitted beforehand), `--engine ray --mesh-chunks N --export none`, resolution "
            f"{args.resolution}**\n\n| run | wall s | speed-up | compute s (all tasks) | meshes | meshes vs "
            f"{first[0]} chunk(s) |\n|---|---:|---:|---:|---:|---|\n" + "\n".join(rows) + "\n\nOne chunk is one task: one CPU, "
            "torch on one thread; the local engine's torch uses every core.\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--tennis-frames", type=int, default=None, help="mesh only the first N frames")
    parser.add_argument("--clip-frames", type=int, default=24)
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--one-thread-reference", action="store_true")
    parser.add_argument("--skip-clips", action="store_true")
    parser.add_argument("--max-load", type=float, default=1.5)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "humanvid_scale")
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    if load > args.max_load:
        raise SystemExit(f"the machine is busy (load average {load:.2f} > {args.max_load}): not measuring")
    try:
        import ray  # noqa: F401
    except ImportError:
        raise SystemExit('benchmarks/scale.py needs the ray extra: pip install -e ".[ray]"') from None
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    parts = [] if args.skip_clips else [clips_part(args, out)]
    parts.append(tennis_part(args, out))
    command = "python benchmarks/scale.py " + shlex.join(sys.argv[1:])
    body = (f"## Ray against the local engine, and the mesh stage in chunks (`benchmarks/scale.py`)\n\n`{command}`"
            f"\n\nLoad average before the run: {load:.2f}. Ray: a local instance started by each command, every "
            f"CPU, one CPU per task.\n\n" + "\n".join(parts))
    print(body)
    if not args.no_write:
        write_section("scale", body)


if __name__ == "__main__":
    main()
