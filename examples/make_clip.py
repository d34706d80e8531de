"""The README's example clip, made by humanvid's synthetic-human generator from one seed.

    python examples/make_clip.py                # (re)write examples/clip.mp4 and examples/clip_groundtruth.npz
    python examples/make_clip.py --check        # regenerate and compare with the shipped ground truth
    python examples/make_clip.py --meshes DIR   # the shipped ground truth as DIR/NNNNNN.obj (for humanvid evaluate)

The clip is clip 0 of the test split (seed 15,000,000, see humanvid/synth/splits.py),
walking, 48 frames at 24 fps, one static camera. clip_groundtruth.npz holds, per frame,
the exact voxel grid the ground-truth mesh is meshed from (bit-packed: the mesh is
rebuilt bit for bit by ``groundtruth_mesh``), the 33 MediaPipe-order keypoints in the
camera frame (``keypoints`` (T, 33, 3), ``valid`` (T, 33)), the Anny body (phenotype,
pose), the camera, and the sha256 of each lossless frame and mesh, so ``--check`` can
tell that a regeneration is exact (the MP4 itself is lossy and its bytes depend on the
video encoder).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
VIDEO, GROUND_TRUTH = HERE / "clip.mp4", HERE / "clip_groundtruth.npz"
FRAMES, FPS, MOTION = 48, 24.0, "walk"


def make_clip(frames: int = FRAMES, motion: str = MOTION) -> tuple[list[np.ndarray], dict]:
    """Render the clip; returns the RGB frames (H, W, 3) uint8 and the ground-truth arrays."""
    import trimesh

    from humanvid.synth.batch import load_generator
    from humanvid.synth.groundtruth import to_camera_frame
    from humanvid.synth.person import clothed_mesh, make_person
    from humanvid.synth.render import appearance_from_materials, render_view, sample_view
    from humanvid.synth.splits import seed_block

    seed = seed_block("test", clips=True).seed(0)
    generator = load_generator(crop=False, threads=2)
    person = make_person(generator.rig, generator.space, seed, frames=frames, motion=motion)
    view = sample_view(np.random.default_rng([seed, 1]), person.posed.vertices[:, ::8].reshape(-1, 3), generator.images)
    world_to_camera = view.camera.world_to_camera
    images, grids, keypoints, frame_digests, mesh_digests = [], [], [], [], []
    for frame in range(frames):
        mesh, grid = clothed_mesh(person, frame)
        surface = trimesh.Trimesh(mesh.vertices, mesh.faces, vertex_normals=mesh.normals, process=False)
        rendering = render_view(surface, appearance_from_materials(mesh.labels, mesh.texcoords, mesh.materials), view)
        images.append(rendering.rgb)
        frame_digests.append(hashlib.sha256(rendering.rgb.tobytes()).hexdigest())
        vertices = to_camera_frame(mesh.vertices, world_to_camera).astype(np.float32)
        mesh_digests.append(mesh_digest(vertices, mesh.faces))
        grids.append(grid)
        keypoints.append(to_camera_frame(generator.keypoints(person.posed.vertices[frame],
                                                             person.posed.bone_poses[frame]), world_to_camera))
        print(f"frame {frame + 1}/{frames}", end="\r", file=sys.stderr)
    generator.close()
    camera = view.camera
    bits = [np.packbits(g.inside.ravel()) for g in grids]
    keypoints = np.stack(keypoints).astype(np.float32)
    arrays = dict(
        seed=np.int64(seed), motion=np.array(motion), fps=np.float64(FPS),
        intrinsics=np.array([camera.fx, camera.fy, camera.cx, camera.cy]), image_size=np.array([camera.width, camera.height]),
        world_to_camera=np.asarray(world_to_camera, dtype=np.float64),
        keypoints=keypoints, valid=np.isfinite(keypoints).all(axis=-1),
        phenotype=np.asarray(person.body.phenotype, dtype=np.float64), pose=person.rotations.astype(np.float32),
        grid_origin=np.stack([g.origin for g in grids]), grid_shape=np.array([g.inside.shape for g in grids]),
        voxel=np.float64(grids[0].voxel), level=np.float64(grids[0].level), passes=np.int64(grids[0].passes),
        inside_bits=np.concatenate(bits), inside_offsets=np.cumsum([0] + [len(b) for b in bits]),
        frame_sha256=np.array(frame_digests), mesh_sha256=np.array(mesh_digests),
    )
    for frame in (0, frames - 1):  # the shipped grids rebuild the generator's mesh exactly
        vertices, faces = groundtruth_mesh(arrays, frame)
        assert mesh_digest(vertices, faces) == mesh_digests[frame], "rebuilt mesh differs from the generator's"
    return images, arrays


def mesh_digest(vertices: np.ndarray, faces: np.ndarray) -> str:
    """sha256 of float32 vertices and int32 faces."""
    return hashlib.sha256(vertices.astype(np.float32).tobytes() + faces.astype(np.int32).tobytes()).hexdigest()


def groundtruth_mesh(arrays, frame: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame ``frame``'s ground-truth mesh from the stored grid: vertices (N, 3) float32 camera frame, faces (M, 3)."""
    from humanvid.synth.groundtruth import VoxelGrid, to_camera_frame

    start, end = arrays["inside_offsets"][frame], arrays["inside_offsets"][frame + 1]
    shape = tuple(int(n) for n in arrays["grid_shape"][frame])
    inside = np.unpackbits(arrays["inside_bits"][start:end], count=int(np.prod(shape))).astype(bool).reshape(shape)
    grid = VoxelGrid(arrays["grid_origin"][frame], float(arrays["voxel"]), inside, float(arrays["level"]),
                     int(arrays["passes"]))
    vertices, faces = grid.surface()
    return to_camera_frame(vertices, arrays["world_to_camera"]).astype(np.float32), faces


def write_npz(path: Path, arrays: dict) -> None:
    """A bzip2-compressed npz (``np.load`` reads it) with fixed member dates: equal arrays give equal bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2, compresslevel=9) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def write_video(path: Path, images: list[np.ndarray], fps: float) -> None:
    import cv2

    height, width = images[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for image in images:
        writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    writer.release()


def write_meshes(folder: Path) -> None:
    import trimesh

    folder.mkdir(parents=True, exist_ok=True)
    with np.load(GROUND_TRUTH) as data:
        arrays = {key: data[key] for key in data.files}
    for frame in range(len(arrays["frame_sha256"])):
        vertices, faces = groundtruth_mesh(arrays, frame)
        trimesh.Trimesh(vertices, faces, process=False).export(folder / f"{frame:06d}.obj")
    print(f"{len(arrays['frame_sha256'])} meshes in {folder}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="regenerate and compare with the shipped files")
    parser.add_argument("--meshes", type=Path, default=None, help="write the shipped ground truth as OBJ files here")
    args = parser.parse_args()
    if args.meshes is not None:
        write_meshes(args.meshes)
        return
    images, arrays = make_clip()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            write_npz(Path(tmp) / "gt.npz", arrays)
            same = (Path(tmp) / "gt.npz").read_bytes() == GROUND_TRUTH.read_bytes()
        print("identical to the shipped ground truth and frames" if same else "DIFFERENT from the shipped files")
        sys.exit(0 if same else 1)
    write_npz(GROUND_TRUTH, arrays)
    write_video(VIDEO, images, FPS)
    print(f"{VIDEO.name} ({VIDEO.stat().st_size / 1e6:.1f} MB), {GROUND_TRUTH.name} "
          f"({GROUND_TRUTH.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
