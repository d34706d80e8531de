"""Synthetic test clips for the fitting benchmark: Anny bodies moving through the synth clips,
rendered (body only, skin and two garment colours painted on) by humanvid.synth's ray caster
with a random static view, then preprocessed by the real pipeline (MediaPipe).

    python benchmarks/fitting_clips.py OUT_FOLDER [--seeds 9000 9001 ...] [--frames 48]

Per clip ``OUT/clip_SEED/``: ``frames/NNNNNN.png`` (the image folder given to
``humanvid reconstruct --until preprocess --focal fx``), ``truth.npz`` (keypoints (T, 33, 3)
camera frame, MediaPipe order, NaN where Anny has none; phenotype; height in metres) and the
preprocessing output under ``pre/frames/``. Clips are pure functions of their seeds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from common import REPO, humanvid

TEST_SEEDS = (9000, 9001, 9002, 9003, 9004, 9005, 9006, 9007)
TEST_MOTIONS = ("walk", "tennis", "squats", "jumping_jacks", "lunge", "arms", "turn", "run")


def make_clip(generator, seed: int, motion: str, folder: Path, frames: int) -> None:
    """Render clip `seed` into `folder` (frames + truth.npz)."""
    import cv2
    import trimesh

    from humanvid.synth.groundtruth import to_camera_frame
    from humanvid.synth.person import make_person
    from humanvid.synth.render import Appearance, render_view, sample_view

    person = make_person(generator.rig, generator.space, seed, frames=frames, motion=motion)
    posed = person.posed
    view = sample_view(np.random.default_rng([seed, 1]), posed.vertices[:, ::8].reshape(-1, 3), generator.images)
    world_to_camera = view.camera.world_to_camera
    rng = np.random.default_rng([seed, 3])
    colors = np.tile(np.asarray(person.body.skin_color), (posed.vertices.shape[1], 1))
    rest = posed.rest_vertices
    height = rest[:, 2]
    top, bottom = rng.uniform(0.1, 0.9, 3), rng.uniform(0.1, 0.9, 3)
    shirt = (height > np.quantile(height, 0.45)) & (height < np.quantile(height, 0.82)) & (np.abs(rest[:, 0]) < 0.35)
    trousers = (height <= np.quantile(height, 0.45)) & (height > np.quantile(height, 0.08))
    colors[shirt], colors[trousers] = top, bottom
    appearance = Appearance(colors)
    (folder / "frames").mkdir(parents=True, exist_ok=True)
    keypoints = []
    for frame in range(frames):
        surface = trimesh.Trimesh(posed.vertices[frame], posed.faces, process=False)
        rendering = render_view(surface, appearance, view)
        cv2.imwrite(str(folder / "frames" / f"{frame:06d}.png"), rendering.rgb[..., ::-1])
        keypoints.append(to_camera_frame(generator.keypoints(posed.vertices[frame], posed.bone_poses[frame]), world_to_camera))
    np.savez(
        folder / "truth.npz",
        keypoints=np.stack(keypoints).astype(np.float32),
        phenotype=np.asarray(person.body.phenotype),
        height=float(np.ptp(rest[:, 2])),
        fx=view.camera.fx,
        motion=np.array(person.motion),
    )


def preprocess(folder: Path, fx: float) -> None:
    """The real preprocessing on the clip's image folder."""
    done = subprocess.run(
        humanvid("reconstruct", folder / "frames", "-o", folder / "pre", "--until", "preprocess", "--focal", fx, "-q"),
        cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"preprocessing failed on {folder}: {done.stderr}")


def ensure_clips(out: Path, seeds=TEST_SEEDS, motions=TEST_MOTIONS, frames: int = 48) -> list[Path]:
    """Make (or reuse) the clips; returns their folders."""
    generator = None
    folders = []
    for seed, motion in zip(seeds, motions):
        folder = out / f"clip_{seed}"
        if not (folder / "truth.npz").exists():
            if generator is None:
                from humanvid.synth.dataset import Generator

                generator = Generator.load(crop=False)
            make_clip(generator, seed, motion, folder, frames)
        if not (folder / "pre" / "frames" / "keypoints.json").exists():
            preprocess(folder, float(np.load(folder / "truth.npz")["fx"]))
        folders.append(folder)
    return folders


def ensure_more_clips(out: Path, count: int, first_seed: int, frames: int = 48) -> tuple[list[Path], list[int]]:
    """`count` further clips, seeds first_seed, first_seed + 1, ..., the motions taken in turn (seed % 8);
    returns the folders of those MediaPipe found a person in, and the seeds of the others."""
    folders, failed = [], []
    for seed in range(first_seed, first_seed + count):
        try:
            folders += ensure_clips(out, seeds=(seed,), motions=(TEST_MOTIONS[seed % len(TEST_MOTIONS)],), frames=frames)
        except SystemExit:  # preprocessing found nobody in the clip
            failed.append(seed)
    return folders, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(TEST_SEEDS),
                        help="clip seeds (the motions in turn; the tuning clips are 9100-9107)")
    parser.add_argument("--frames", type=int, default=48)
    args = parser.parse_args()
    motions = [TEST_MOTIONS[i % len(TEST_MOTIONS)] for i in range(len(args.seeds))]
    for folder in ensure_clips(args.out, seeds=args.seeds, motions=motions, frames=args.frames):
        run = json.loads((folder / "pre" / "frames" / "run.json").read_text())
        print(folder.name, str(np.load(folder / "truth.npz")["motion"]), run.get("summary"), file=sys.stderr)


if __name__ == "__main__":
    main()
