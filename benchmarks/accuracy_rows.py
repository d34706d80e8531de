"""The rows of benchmarks/accuracy.py that are not a plain reconstruction of a still: the fit told the
person's height (h), the true body alone (u), and the network given the true body (t, the oracle)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from accuracy_data import Still
from accuracy_runs import Variant, mesh_path, reconstruct

from humanvid.constants import VIDEO_DEPTH_MARGIN
from humanvid.implicit.inference.frame import FrameInputs


def known_height_meshes(stills: list[Still], out: Path, checkpoint: Path, resolution: int,
                        depth_margin: float) -> dict[str, Path]:
    """Still name → row h's mesh: the whole pipeline with the person's true height given (--height),
    meshed by the default network. The height is the true phenotype's rest height, as the fit
    measures its own."""
    import torch

    from humanvid.body.anny_model import create_anny_body

    body = create_anny_body()
    meshes = {}
    for still in stills:
        with np.load(still.image.parent / "body.npz") as truth:
            shape = torch.tensor(truth["phenotype"], dtype=body.dtype)[None]
        with torch.no_grad():
            height = float(body.rest_height(shape))
        outcome = reconstruct(still.image, still.name, still.focal, out,
                              [Variant("image_keypoints", checkpoint, depth_margin=depth_margin)],
                              resolution, height=round(height, 3))
        if outcome.error is None:
            meshes[still.name] = mesh_path(outcome.variants["image_keypoints"], 0)
    return meshes


def true_body_meshes(stills: list[Still], out: Path) -> dict[str, Path]:
    """Still name → row u's mesh: the still's true body as it is (camera frame), for stills with a crop."""
    from humanvid.exchange.obj import write_obj

    meshes = {}
    for still in stills:
        sample = still.image.parent
        if not (sample / "sample.npz").exists():
            continue
        path = out / f"{still.name}.obj"
        if not path.exists():
            with np.load(sample / "body.npz") as body:
                write_obj(path, body["vertices"][0].astype(np.float64), body["faces"])
        meshes[still.name] = path
    return meshes


def oracle_meshes(stills: list[Still], out: Path, checkpoint: Path, resolution: int,
                  depth_margin: float) -> dict[str, Path]:
    """Still name → row t's mesh: the default network given the still's true body (ground-truth keypoints)."""
    from humanvid.implicit.model.checkpoint import load_network

    network = load_network(checkpoint, "cpu")
    meshes = {}
    for still in stills:
        path = mesh_with_true_body(still.image.parent, network, out / f"{still.name}.obj", resolution, depth_margin)
        if path is not None:
            meshes[still.name] = path
    return meshes



def mesh_with_true_body(sample: Path, network, path: Path, resolution: int = 256,
                        depth_margin: float = VIDEO_DEPTH_MARGIN) -> Path | None:
    """The network's mesh of a synthetic still given its TRUE body instead of the fitted one (an
    oracle: what a perfect fit would give), from the sample's crop, mask and ground-truth keypoints
    and body; written to `path` (None where the sample has no crop: MediaPipe found nobody).
    network: the loaded OccupancyNetwork (loaded once by the caller for all stills)."""
    import numpy as np

    from humanvid.exchange.obj import write_obj
    from humanvid.implicit.inference.frame import encode_frame, occupancy_function
    from humanvid.implicit.inference.volume import mesh_frame
    from humanvid.implicit.training.samples import read_sample

    if not (sample / "sample.npz").exists():
        return None
    if not path.exists():
        data = read_sample(sample)
        with np.load(sample / "body.npz") as body:
            vertices = body["vertices"][0].astype(np.float64)  # already in the camera frame
            faces = body["faces"].astype(np.int64)
        frame = FrameInputs(data.crop, data.mask, data.intrinsics, data.affine, data.keypoints.astype(np.float64),
                            vertices, faces)
        mesh = mesh_frame(occupancy_function(network, encode_frame(network, frame)), frame, resolution,
                          depth_margin=depth_margin)
        write_obj(path, mesh.vertices, mesh.faces)
    return path
