"""Preprocessing speed and memory: `humanvid reconstruct --until preprocess`.

    python benchmarks/preprocess.py [--repeats 3]

Measures on ../shared/data/real/tennis.mp4 (312 frames, 812×720): frames per
second of the whole command (process start to exit, all frames) and of the
stage alone, peak resident memory for the first 100 frames and for the whole
clip (it must not grow with video length), crop-centre jitter; and the time
for the 24 MP photo. Writes its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from common import REAL, humanvid, run_timed, write_section


def preprocess(source: Path, out: Path, *extra) -> tuple[object, dict]:
    timed = run_timed(humanvid("reconstruct", source, "-o", out, "--until", "preprocess", "--overwrite", "-q", *extra))
    if timed.returncode != 0:
        raise SystemExit(f"humanvid failed on {source}: {timed.stderr}")
    return timed, json.loads((out / source.stem / "run.json").read_text())


def looped_video(source: Path, target: Path, loops: int) -> Path:
    """The clip played `loops` times back and forth (a long video with smooth motion)."""
    import cv2

    capture = cv2.VideoCapture(str(source))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps, frames[0].shape[1::-1])
    for loop in range(loops):
        for frame in frames if loop % 2 == 0 else frames[::-1]:
            writer.write(frame)
    writer.release()
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    tennis, photo = REAL / "tennis.mp4", REAL / "lunge_6016x4016.jpg"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        runs = [preprocess(tennis, out) for _ in range(args.repeats)]
        short = [preprocess(tennis, out, "--max-frames", "100") for _ in range(args.repeats)]
        photos = [preprocess(photo, out) for _ in range(args.repeats)]
        long_video = looped_video(tennis, out / "tennis_x4.mp4", 4)
        long_timed, long_run = preprocess(long_video, out)

    frames = runs[0][1]["summary"]["frames_total"]
    ok = runs[0][1]["summary"]["frames_ok"]
    wall = statistics.median(t.seconds for t, _ in runs)
    stage = statistics.median(r["stages"]["preprocess"]["detect_s"] + r["stages"]["preprocess"]["crop_s"] for _, r in runs)
    detect = statistics.median(r["stages"]["preprocess"]["detect_s"] for _, r in runs)
    peak_full = max(t.peak_rss_mb for t, _ in runs)
    peak_short = max(t.peak_rss_mb for t, _ in short)
    photo_wall = statistics.median(t.seconds for t, _ in photos)
    long_frames = long_run["summary"]["frames_total"]
    jitter = runs[0][1]["quality"]["crop_center_jitter_px"]
    body = f"""## Preprocessing (`benchmarks/preprocess.py`)

`humanvid reconstruct tennis.mp4 --until preprocess` ({frames} frames, 812×720), median of {args.repeats} runs:

| measure | value | target |
|---|---|---|
| frames with the person found | {ok} / {frames} | ≥ 296 / 312 |
| whole command, process start to exit | {wall:.1f} s = **{frames / wall:.1f} frames/s** | ≥ 20 frames/s |
| preprocessing stage alone (detect + crop) | {stage:.1f} s = {frames / stage:.1f} frames/s (detection pass {detect:.1f} s) | |
| peak memory, first 100 frames | {peak_short:.0f} MB | |
| peak memory, all {frames} frames | {peak_full:.0f} MB | ≤ 1.5 GB |
| peak memory, the clip looped to {long_frames} frames | {long_timed.peak_rss_mb:.0f} MB ({long_frames / long_timed.seconds:.1f} frames/s) | flat in video length |
| crop-centre jitter (std of 2nd difference, crop px) | {jitter:.2f} | ≤ 2 |
| 24 MP photo `lunge_6016x4016.jpg`, whole command | {photo_wall:.1f} s | < 10 s |
"""
    write_section("preprocess", body)
    print(body)


if __name__ == "__main__":
    main()
