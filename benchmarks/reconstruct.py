"""The whole `humanvid reconstruct` on the real tennis clip: meshes, their agreement with the video, speed.

    python benchmarks/reconstruct.py [--video PATH] [--max-frames N] [--temporal-window K] [--checkpoint CKPT]
                                     [--keep DIR]

Runs the real command (preprocess → fit → mesh with the shipped network) into a fresh
folder and reads its run.json: frames with a person, meshes written, watertight
fraction, mean IoU of each mesh's silhouette with the MediaPipe mask, seconds per
frame end to end (the whole process: start-up and model loading included) and by
stage, and peak memory. Writes the `reconstruct` section of benchmarks/RESULTS.md.
Targets (issue 6): every frame with a person meshed and watertight, IoU ≥ 0.85,
≤ 1.5 s per frame end to end on 2 cores at 256³.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from common import REAL, humanvid, run_timed, write_section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, default=REAL / "tennis.mp4")
    parser.add_argument("--max-frames", type=int, default=None)
    parser.add_argument("--temporal-window", type=int, default=2)
    parser.add_argument("--checkpoint", default=None,
                        help="network to mesh with (a path or a shipped file's name); default: the shipped default")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="also copy the output folder to DIR (e.g. for benchmarks/contact_sheet.py)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        extra = ["--temporal-window", args.temporal_window]
        if args.max_frames:
            extra += ["--max-frames", args.max_frames]
        if args.checkpoint:
            extra += ["--checkpoint", args.checkpoint]
        timed = run_timed(humanvid("reconstruct", args.video, "-o", out, "-q", *extra))
        if timed.returncode != 0:
            sys.exit(f"reconstruct failed: {timed.stderr.strip()}")
        run = json.loads((Path(out) / args.video.stem / "run.json").read_text())
        if args.keep is not None:
            shutil.rmtree(args.keep, ignore_errors=True)
            shutil.copytree(Path(out) / args.video.stem, args.keep)
    stages, quality, summary = run["stages"], run["quality"], run["summary"]
    frames = summary["frames_total"]
    preprocess = sum(v for k, v in stages["preprocess"].items() if k.endswith("_s"))
    mesh = stages["mesh"]
    rows = [
        ("frames with a person / meshes / watertight",
         f"{summary['frames_ok']} / {quality['meshes']} / {quality['watertight_fraction']:.0%}", "all"),
        ("mesh silhouette vs MediaPipe mask, mean IoU", f"{quality['mesh_mask_iou_mean']:.3f}", "≥ 0.85"),
        ("whole command, seconds per frame", f"{timed.seconds / frames:.2f}", "≤ 1.5"),
        ("  preprocess / fit / mesh, s per frame",
         f"{preprocess / frames:.3f} / {stages['fit']['seconds_per_frame']:.3f} / {mesh['seconds_per_frame']:.3f}", ""),
        ("  mesh: network / fusion / surface / output, s per frame",
         " / ".join(f"{mesh[f'seconds_{part}'] / max(quality['meshes'], 1):.3f}"
                    for part in ("network", "fusion", "surface", "output")), ""),
        ("peak memory", f"{timed.peak_rss_mb:.0f} MB", ""),
    ]
    command = "python benchmarks/reconstruct.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    body = (f"## Whole reconstruction of `{args.video.name}` ({frames} frames, resolution {mesh['resolution']}, "
            f"temporal window {mesh['temporal_window']}, network `{Path(mesh['checkpoint']).name}`)\n\n"
            f"`{command.strip()}`\n\n"
            "| what | measured | target |\n|---|---|---|\n"
            + "".join(f"| {what} | {value} | {target} |\n" for what, value, target in rows))
    print(body)
    write_section("reconstruct", body)


if __name__ == "__main__":
    main()
