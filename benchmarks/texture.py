"""The baked texture against the frames it was baked from, on synthetic clips (their colours are known).

    python benchmarks/texture.py [--clips 2] [--turn-clips 4] [--clip-frames 24] [--data DIR] [--out DIR]

Test clips and clips of the turn family (as in benchmarks/canonical.py), each reconstructed with
`--topology canonical --export obj`. Every frame's textured mesh (`meshes/NNNNNN.obj` with
`avatar/texture.png`) is rendered through the video camera and compared with the frame inside the
person's true mask, where the mesh is drawn: PSNR [dB] over those pixels (and the share of the mask the
mesh covers). "Back" frames: the frames of the turning clips where the person's trunk faces more than
120° away from the camera, so what is seen is their back. Writes the `texture` section of
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from accuracy_data import chosen_clips, clip_arguments
from accuracy_runs import Variant, reconstruct
from common import write_section

from humanvid.exchange.avatar import read_avatar, texture_path
from humanvid.exchange.obj import obj_trimesh
from humanvid.exchange.run_folder import RunFolder
from humanvid.render.textured import render_textured
from humanvid.synth.facing import LEFT_HIP, LEFT_SHOULDER, RIGHT_HIP, RIGHT_SHOULDER

BACK_COSINE = -0.5  # the trunk faces more than 120° away from the camera


@dataclass
class FrameScore:
    clip: str
    frame: int
    squared_error: float  # summed over the compared pixels and channels
    values: int  # pixels × channels compared
    coverage: float  # share of the true mask the mesh covers
    back: bool


def psnr(scores: list[FrameScore]) -> float:
    """PSNR of the pooled error of each frame, averaged over the frames [dB]."""
    return float(np.mean([10.0 * np.log10(255.0**2 * s.values / max(s.squared_error, 1e-9)) for s in scores]))


def facing_away(keypoints: np.ndarray) -> np.ndarray:
    """(T,) whether the trunk of each frame's (33, 3) camera-frame landmarks faces away from the camera."""
    left = (keypoints[:, LEFT_SHOULDER] - keypoints[:, RIGHT_SHOULDER]) + (keypoints[:, LEFT_HIP] - keypoints[:, RIGHT_HIP])
    forward = np.cross(left, [0.0, 1.0, 0.0])  # y up in the camera frame
    to_camera = -keypoints[:, [LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP]].mean(axis=1)
    cosine = np.einsum("ij,ij->i", forward, to_camera) / (np.linalg.norm(forward, axis=1)
                                                           * np.linalg.norm(to_camera, axis=1))
    return cosine < BACK_COSINE


def score_clip(name: str, clip_folder: Path, run_folder: Path) -> list[FrameScore]:
    run = RunFolder(run_folder)
    avatar = read_avatar(run)
    texture = cv2.cvtColor(cv2.imread(str(texture_path(run))), cv2.COLOR_BGR2RGB)
    camera = run.read_camera()
    with np.load(clip_folder / "body.npz") as body:
        away = facing_away(body["keypoints"].astype(np.float64))
    scores = []
    for frame in range(len(away)):
        path = run.mesh_path(frame)
        if not path.exists():
            continue
        mask, colour = render_textured(obj_trimesh(path), avatar.atlas.uv, avatar.atlas.uv_faces, texture, camera)
        image = cv2.cvtColor(cv2.imread(str(clip_folder / "frames" / f"{frame:06d}.png")), cv2.COLOR_BGR2RGB)
        truth = cv2.imread(str(clip_folder / "buffers" / f"{frame:06d}_mask.png"), cv2.IMREAD_GRAYSCALE) > 127
        both = mask & truth
        error = (colour[both].astype(np.float64) - image[both]) ** 2
        scores.append(FrameScore(name, frame, float(error.sum()), error.size, float(both.sum() / max(truth.sum(), 1)),
                                 bool(away[frame])))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    clip_arguments(parser, "humanvid_texture")
    args = parser.parse_args()
    clips = chosen_clips(parser, args)
    variant = Variant("canonical", args.checkpoint.resolve(), args.temporal_window, topology="canonical",
                      exports=("obj",))  # canonical.py's variant: its meshes are reused when --out is its folder
    rows, failed = [], []
    for clip in clips:
        outcome = reconstruct(clip.frames[0].parent, clip.name, clip.focal, args.out.resolve(), [variant],
                              args.resolution)
        if outcome.error is not None:
            failed.append(f"{clip.name}: {outcome.error}")
            continue
        scores = score_clip(clip.name, clip.frames[0].parent.parent, outcome.variants[variant.name])
        rows.append((clip, scores))
        print(f"{clip.name}: {psnr(scores):.2f} dB over {len(scores)} frames", flush=True)
    table = ["| clips | frames | PSNR [dB] | mask covered | target |", "|---|---|---|---|---|"]
    every = [s for _, scores in rows for s in scores]
    back = [s for clip, scores in rows if clip.yaw_deg >= 120 for s in scores if s.back]
    for label, group, target in (("all", every, "≥ 22"), ("turning clips, back frames", back, "≥ 20")):
        if group:
            table.append(f"| {label} | {len(group)} | {psnr(group):.2f} | "
                         f"{100 * np.mean([s.coverage for s in group]):.1f} % | {target} |")
    per_clip = ", ".join(f"{clip.name} {psnr(scores):.1f}" for clip, scores in rows)
    command = "python benchmarks/texture.py " + shlex.join(sys.argv[1:])
    body = (f"## The baked texture on synthetic clips (`benchmarks/texture.py`)\n\n`{command}`\n\n"
            "Each frame's textured mesh rendered through the video camera against the frame, inside the true "
            "person mask where the mesh is drawn (mask covered: the share of the true mask the mesh covers).\n\n"
            + "\n".join(table) + f"\n\nPer clip (dB): {per_clip}.\n"
            + "".join(f"- clip failed: {f}\n" for f in failed))
    print(body)
    if not args.no_write:
        write_section("texture", body)


if __name__ == "__main__":
    main()
