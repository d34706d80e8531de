"""The canonical person against each frame's own mesh, on synthetic clips only (the clip part of accuracy.py).

    python benchmarks/canonical.py [--clips 2] [--turn-clips 4] [--clip-frames 24] [--data DIR] [--out DIR]

Test clips (`humanvid synth --split test --clips`) and clips of the turn family (`--split turn-test`:
people who turn on the spot, walk a circle or stand on a turntable, and people who do not), each
fitted once and meshed with `--topology per-frame` (temporal window 0 and K) and `--topology canonical`,
scored frame by frame against the clothed truth: aligned Chamfer, P2S and normal consistency, the
excess frame-to-frame change, and the share of vertices more than 25 cm from the fitted body; over
all clips, the turning ones (≥ 120° of facing) and the others. Writes the `canonical` section of
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from accuracy_clips import clip_groups, measure_clips
from accuracy_data import chosen_clips, clip_arguments
from accuracy_report import clips_table, speed_table, temporal_lines
from accuracy_scores import ScoreCache
from common import write_section

from humanvid.constants import VIDEO_DEPTH_MARGIN


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    clip_arguments(parser, "humanvid_canonical")
    parser.add_argument("--samples", type=int, default=10_000)
    args = parser.parse_args()
    clips = chosen_clips(parser, args)
    cache = ScoreCache(args.out.resolve() / "scores.json")
    results, failed = measure_clips(clips, args.out.resolve() / "clips", args.checkpoint.resolve(),
                                    args.temporal_window, args.resolution, args.samples, cache, VIDEO_DEPTH_MARGIN)
    groups = clip_groups(results, failed, args.clip_frames, args.temporal_window)
    tables = [clips_table(group) for group in groups] + [speed_table(None, groups[0])]
    notes = [line for group in groups for line in temporal_lines(group)] + [f"clip failed: {f}" for f in failed]
    command = "python benchmarks/canonical.py " + shlex.join(sys.argv[1:])
    body = (f"## The canonical person on synthetic clips (`benchmarks/canonical.py`)\n\n`{command}`\n\n"
            f"Aligned: each mesh scaled about the camera centre to best match the truth (as in the accuracy "
            f"section). far: the share of mesh vertices more than 25 cm from the fitted body.\n\n"
            + "".join(f"**{table.title}**\n\n{table.markdown()}\n\n" for table in tables)
            + "\n".join(f"- {note}" for note in notes) + "\n")
    print(body)
    if not args.no_write:
        write_section("canonical", body)


if __name__ == "__main__":
    main()
