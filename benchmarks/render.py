"""Speed of the synthetic renderer and of the surface metrics.

    python benchmarks/render.py [--views 10] [--write]

An Anny body with its arms lowered, subdivided to the size of generated clothed
meshes (27k, 110k and 440k faces), is rendered from random video-like views
(frames 540×960 … 1280×720) with random textures, light, shadows and
backgrounds; the first cast on a mesh also builds its ray-tracing structure and
is reported apart. Wall and CPU time are both given: on a shared machine the
wall time includes waiting for the CPU. Then Chamfer/P2S/normal consistency
between two such meshes.
With --write, the numbers replace the "render" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
import trimesh


def posed_anny() -> trimesh.Trimesh:
    import anny
    import torch

    model = anny.Anny()
    labels = list(model.bone_labels)
    pose = torch.eye(4).repeat(1, len(labels), 1, 1)
    for bone, degrees in (("upperarm01.L", 65.0), ("upperarm01.R", -65.0)):
        a = math.radians(degrees)
        pose[0, labels.index(bone), :3, :3] = torch.tensor(
            [[math.cos(a), 0.0, math.sin(a)], [0.0, 1.0, 0.0], [-math.sin(a), 0.0, math.cos(a)]])
    vertices = model(pose_parameters=pose)["vertices"][0].detach().numpy()
    return trimesh.Trimesh(vertices, np.asarray(model.get_triangular_faces()), process=False)


def appearance_for(mesh: trimesh.Trimesh, rng: np.random.Generator):
    from humanvid.synth.render import Appearance
    from humanvid.synth.textures import Pattern, random_pattern

    z = mesh.vertices[:, 2]
    height = (z - z.min()) / np.ptp(z)
    labels = np.select([height > 0.93, height > 0.75, height > 0.45, height > 0.04], [3, 0, 1, 2], 4)
    colors = rng.uniform(0, 1, size=(5, 3))[labels]
    patterns = {0: Pattern("skin", seed=1), 3: Pattern("hair", seed=2)}
    for label in (1, 2):
        chosen = labels == label
        patterns[label] = random_pattern(rng, None, mesh.vertices[chosen], mesh.vertex_normals[chosen], 0.5)
    return Appearance(colors, labels, patterns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--views", type=int, default=10)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()

    from humanvid.evaluation.metrics import surface_metrics
    from humanvid.synth.backgrounds import load_bundled_images
    from humanvid.synth.render import render_random

    images = load_bundled_images()
    base = posed_anny()
    meshes = [base, base.subdivide(), base.subdivide().subdivide()]
    lines = ["| faces | first render (incl. BVH build) | render, mean of views | slowest view | CPU time per view | frame |",
             "|---|---|---|---|---|---|"]
    for mesh in meshes:
        rng = np.random.default_rng(0)
        appearance = appearance_for(mesh, rng)
        start = time.perf_counter()
        render_random(mesh, appearance, rng, images)
        first = time.perf_counter() - start
        times, pixels = [], []
        cpu_start = time.process_time()
        for _ in range(args.views):
            start = time.perf_counter()
            rendering = render_random(mesh, appearance, rng, images)
            times.append(time.perf_counter() - start)
            pixels.append(rendering.mask.size)
        cpu = (time.process_time() - cpu_start) / args.views
        frame = f"{statistics.mean(pixels) / 1e6:.2f} MP"
        lines.append(f"| {len(mesh.faces):,} | {first:.2f} s | {statistics.mean(times):.2f} s | {max(times):.2f} s "
                     f"| {cpu:.2f} s | {frame} |")
        print(lines[-1], flush=True)

    moved = meshes[1].copy()
    moved.apply_translation([0.01, 0.0, 0.0])
    start = time.perf_counter()
    result = surface_metrics(moved, meshes[1], count=10_000)
    metric_time = time.perf_counter() - start
    lines.append("")
    lines.append(f"Surface metrics, {len(moved.faces):,} vs {len(moved.faces):,} faces, 10,000 samples each: "
                 f"{metric_time:.2f} s (Chamfer {result.chamfer_cm:.3f} cm for a 1 cm shift).")
    print(lines[-1])
    if args.write:
        from common import machine_description, write_section

        write_section("render", f"Synthetic renderer ({args.views} random views per mesh; {machine_description()}).\n\n"
                      + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
