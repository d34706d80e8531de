"""Compact copy of training samples, small enough to carry to a GPU machine (it takes at most 64 MiB).

    python checkpoints/pack_samples.py DATA PACKED [--points 4096]

Each sample keeps its mask, camera and keypoints; its crop loses the background (which the network
never sees) and is stored as JPEG (quality 95) instead of PNG; of its occupancy points, `--points`
are kept, chosen at random with a seed made from the sample's path, so the copy is the same on every
machine. The train/ and val/ layout is kept, so `humanvid train --data PACKED` reads it.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from humanvid.implicit.training.samples import compact_sample, find_samples, read_sample, write_sample  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("packed", type=Path)
    parser.add_argument("--points", type=int, default=4096)
    args = parser.parse_args()
    folders = find_samples(args.data)
    for folder in folders:
        relative = folder.relative_to(args.data)
        rng = np.random.default_rng(zlib.crc32(relative.as_posix().encode()))
        write_sample(args.packed / relative, compact_sample(read_sample(folder), args.points, rng), crop_suffix=".jpg")
    size = sum(path.stat().st_size for path in args.packed.rglob("*") if path.is_file())
    print(f"{len(folders)} samples → {args.packed} ({size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
