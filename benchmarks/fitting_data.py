"""Read a preprocessing output folder into the body-fitting inputs, and score a fit against it.

Used by benchmarks/fitting.py (until `humanvid reconstruct --until fit` lands, the benchmark
drives the library API directly).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from humanvid.body.fitting import KeypointObservations
from humanvid.body.silhouette import SilhouetteObservations, silhouette_targets


def load_observations(folder: Path, masks: bool = True) -> tuple[KeypointObservations, SilhouetteObservations | None, list[np.ndarray]]:
    """keypoints.json + camera.json (+ masks/NNNNNN.png) -> fitting inputs and the (T, 512, 512)
    boolean masks (empty list without `masks`)."""
    from PIL import Image

    data = json.loads((folder / "keypoints.json").read_text())
    camera = json.loads((folder / "camera.json").read_text())
    frames = data["frames"]
    count = len(frames)
    landmarks = np.full((count, 33, 4), np.nan, np.float32)
    world = np.full((count, 33, 3), np.nan, np.float32)
    sides = np.full(count, 512.0, np.float32)
    affines = np.tile(np.eye(2, 3, dtype=np.float32), (count, 1, 1))
    for index, frame in enumerate(frames):
        if frame.get("landmarks"):
            landmarks[index] = np.asarray(frame["landmarks"], np.float32)[:, :4]
            world[index] = np.asarray(frame["world_landmarks"], np.float32)[:, :3]
        if frame.get("crop_box"):
            sides[index] = frame["crop_box"]["side"]
            affines[index] = np.asarray(frame["crop_affine"], np.float32)
    observations = KeypointObservations(
        torch.from_numpy(landmarks[..., :2]), torch.from_numpy(landmarks[..., 3]), torch.from_numpy(world),
        camera["fx"], camera["fy"], camera["cx"], camera["cy"], crop_sides=torch.from_numpy(sides),
    )  # fmt: skip
    if not masks:
        return observations, None, []
    images, distances, outlines, available = [], [], [], []
    for frame in frames:
        path = folder / "masks" / f"{frame['frame']:06d}.png"
        mask = np.asarray(Image.open(path)) > 127 if path.exists() else np.zeros((512, 512), bool)
        distance, outline = silhouette_targets(mask)
        images.append(mask)
        distances.append(distance)
        outlines.append(outline)
        available.append(bool(mask.any()))
    silhouettes = SilhouetteObservations(
        torch.from_numpy(np.stack(distances)), torch.from_numpy(np.stack(outlines)),
        torch.from_numpy(affines), torch.tensor(available),
    )  # fmt: skip
    return observations, silhouettes, images


def with_crop_looks(observations: KeypointObservations, folder: Path) -> KeypointObservations:
    """The observations of `folder`'s first T frames (as load_observations gives them) with the 3D and
    2D landmarks that the fit stage follows after its looks at the crops (humanvid.stages.fit.look_at_crops)."""
    import dataclasses

    from humanvid.exchange.run_folder import RunFolder
    from humanvid.stages.fit import load_observations as stage_observations
    from humanvid.stages.fit import look_at_crops

    count = len(observations.pixels)
    staged = stage_observations(RunFolder(folder))
    staged = dataclasses.replace(staged, **{field.name: getattr(staged, field.name)[:count]
                                            for field in dataclasses.fields(staged) if field.name != "intrinsics"})
    looked = look_at_crops(RunFolder(folder), staged)
    return dataclasses.replace(observations, world_landmarks=torch.from_numpy(looked.world).to(observations.world_landmarks),
                               pixels=torch.from_numpy(looked.pixels).to(observations.pixels))


def mask_ious(vertices: torch.Tensor, faces: torch.Tensor, observations: KeypointObservations,
              silhouettes: SilhouetteObservations, masks: list[np.ndarray]) -> np.ndarray:
    """(T,) IoU of the rendered body (T, V, 3) with each frame's crop mask (NaN without one)."""
    from humanvid.evaluation.silhouette import mask_iou, rasterize_silhouette
    from humanvid.projection import crop_camera

    intrinsics = np.array([observations.fx, observations.fy, observations.cx, observations.cy])
    ious = np.full(len(masks), np.nan)
    for index, mask in enumerate(masks):
        if not silhouettes.available[index]:
            continue
        camera = crop_camera(intrinsics, silhouettes.affines[index].double().numpy())
        drawn = rasterize_silhouette(vertices[index].double().numpy(), faces.numpy(), camera, mask.shape[0])
        ious[index] = mask_iou(drawn, mask)
    return ious
