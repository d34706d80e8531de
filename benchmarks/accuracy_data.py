"""The synthetic TEST split for benchmarks/accuracy.py: stills and clips, made on demand by `humanvid synth`.

Stills: ``DATA/test/NNNNNN/`` (``render.png``, ``render_camera.json``, ``mesh.npz`` …).
Clips: ``DATA/clips-F/test-clips/NNNNNN/`` for clips of F frames (one root per length, because
`humanvid synth` resumes a clip folder by its seed alone, whatever its frame count).
Both are pure functions of their seeds, so generating them again gives the same data.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common import REPO, humanvid

FULL_TEST_STILLS = 48


@dataclass
class Still:
    """One synthetic photo: the image given to the pipeline, its focal, and its ground-truth mesh."""

    name: str
    image: Path
    focal: float
    truth: Path  # mesh.npz, camera frame


@dataclass
class Clip:
    """One synthetic clip: its frames, their focal, and one ground-truth mesh per frame."""

    name: str
    frames: list[Path]  # the RGB frames, in order
    focal: float
    truths: list[Path]  # meshes/NNNNNN.npz, camera frame
    motion: str
    yaw_deg: float = 0.0  # how far the person turns over the clip (range of the facing direction)

    @property
    def turning(self) -> bool:
        return self.yaw_deg >= TURNING_DEG


TURNING_DEG = 120.0  # a clip whose person turns at least this far counts as turning


def load_truth(path: Path):
    """The ground-truth clothed surface of a ``mesh.npz`` as a trimesh (camera frame, metres)."""
    from humanvid.synth.groundtruth_io import groundtruth_trimesh

    return groundtruth_trimesh(path)


def render_focal(camera_file: Path) -> float:
    """fx of a synthetic render; refuses cameras that humanvid's own camera (square pixels,
    principal point at the image centre, Camera.for_frame) could not reproduce."""
    camera = json.loads(camera_file.read_text())
    centre = ((camera["width"] - 1) / 2.0, (camera["height"] - 1) / 2.0)
    if not (np.isclose(camera["fx"], camera["fy"]) and np.allclose((camera["cx"], camera["cy"]), centre)):
        raise SystemExit(f"{camera_file}: fx = fy and a centred principal point {centre} are needed "
                         f"to reproduce this camera with --focal (got {camera})")
    return float(camera["fx"])


def synth(*args) -> None:
    print("generating:", "humanvid synth", *map(str, args), flush=True)
    done = subprocess.run(humanvid("synth", *args, "-q"), cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"humanvid synth failed: {done.stderr.strip() or done.stdout.strip()}")


def ensure_stills(data: Path, count: int, split: str = "test") -> list[Still]:
    """The first `count` stills of `split` (test, loose-test) under ``data/<split>``, generated first where missing."""
    folders = [data / split / f"{index:06d}" for index in range(count)]
    if not all((folder / "sample.json").exists() for folder in folders):
        synth("--split", split, "--count", max(count, FULL_TEST_STILLS), "-o", data)
    return [Still(f.name, f / "render.png", render_focal(f / "render_camera.json"), f / "mesh.npz") for f in folders]


def ensure_clips(data: Path, count: int, frames: int, split: str = "test") -> list[Clip]:
    """The first `count` clips of `split` of `frames` frames under ``data/clips-<frames>``, generated where missing."""
    from humanvid.synth.facing import clip_yaw_range_deg

    if count == 0:
        return []
    root = data / f"clips-{frames}"
    folders = [root / f"{split}-clips" / f"{index:06d}" for index in range(count)]
    if not all((folder / "clip.json").exists() for folder in folders):
        synth("--split", split, "--clips", "--count", count, "--frames", frames, "--workers", min(count, 2),
              "-o", root)
    clips = []
    for folder in folders:
        summary = json.loads((folder / "clip.json").read_text())
        if summary["frames"] != frames:
            raise SystemExit(f"{folder} holds a clip of {summary['frames']} frames, not {frames}; remove it")
        names = [f"{index:06d}" for index in range(frames)]
        clips.append(Clip(
            folder.name if split == "test" else f"{split}-{folder.name}", [folder / "frames" / f"{n}.png" for n in names],
            render_focal(folder / "buffers" / f"{names[0]}_camera.json"),
            [folder / "meshes" / f"{n}.npz" for n in names], summary["motion"],
            summary["yaw_range_deg"] if "yaw_range_deg" in summary else clip_yaw_range_deg(folder / "body.npz"),
        ))  # fmt: skip
    return clips


def clip_arguments(parser, out: str) -> None:
    """The options of the benchmarks on synthetic test and turn-test clips (canonical.py, texture.py);
    `out`: the default output folder's name in the temporary folder."""
    import tempfile

    parser.add_argument("--clips", type=int, default=2, help="test clips (default: %(default)s)")
    parser.add_argument("--turn-clips", type=int, default=4, help="turn-test clips (default: %(default)s)")
    parser.add_argument("--clip-frames", type=int, default=24)
    parser.add_argument("--temporal-window", type=int, default=2)
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--checkpoint", type=Path, default=REPO / "checkpoints" / "occupancy_v1.pt")
    parser.add_argument("--data", type=Path, default=REPO.parent / "data" / "synth")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / out)
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")


def chosen_clips(parser, args) -> list[Clip]:
    """The test and turn-test clips that clip_arguments' options name, made where missing."""
    clips = ensure_clips(args.data.resolve(), args.clips, args.clip_frames) + \
        ensure_clips(args.data.resolve(), args.turn_clips, args.clip_frames, split="turn-test")
    if not clips:
        parser.error("no clips: give --clips or --turn-clips")
    return clips
