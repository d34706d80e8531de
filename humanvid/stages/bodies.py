"""The fitted bodies of a run folder, posed on demand, as the mesh stage needs them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from humanvid.constants import CARRY_STRIDE
from humanvid.errors import HumanvidError
from humanvid.exchange.body_params import load_body_params
from humanvid.exchange.run_folder import RunFolder
from humanvid.implicit.inference.fusion import PosedBody



class FittedBodies:
    """The fitted body of each frame, posed on demand (vertices, keypoints, skinning transforms)."""

    def __init__(self, run: RunFolder, body_model: str, model_path: Path | None):
        from humanvid.body import create_body_model

        saved = load_body_params(run.body_params_path)
        if saved.model != body_model:
            raise HumanvidError(f"{run.root}: bodies were fitted with {saved.model}, not {body_model}; "
                                "rerun with --overwrite")
        self.model = create_body_model(body_model, model_path)
        self.params = saved.params

    @torch.no_grad()
    def pose(self, row: int) -> tuple[PosedBody, np.ndarray, np.ndarray]:
        """The body of frame `row` (its fusion carriers), its (33, 3) MediaPipe-order keypoints (NaN where
        the model has none) and all its (V, 3) vertices."""
        output = self.model(self.params.index([row]))
        keypoints = output.keypoints[0].double().numpy()
        keypoints[output.keypoint_weights.numpy() <= 0] = np.nan
        carriers = torch.arange(0, output.vertices.shape[1], CARRY_STRIDE)
        transforms = output.vertex_transforms(carriers)[0].double().numpy()
        vertices = output.vertices[0].double().numpy()
        return PosedBody(vertices[carriers.numpy()], transforms), keypoints, vertices

    @property
    def faces(self) -> np.ndarray:
        return self.model.faces.numpy()

    @torch.no_grad()
    def rest_and_bones(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The rest body — (V, 3) vertices, (V, K) bone indices and weights, (J, 3) bone heads — and the
        (T, J, 4, 4) rest → camera-frame bone transforms of every frame."""
        transforms, first = [], None
        for start in range(0, self.params.batch_size, 64):
            output = self.model(self.params.index(list(range(start, min(start + 64, self.params.batch_size)))))
            transforms.append(output.bone_transforms.double().numpy())
            first = first or output
        transforms = np.concatenate(transforms)
        heads = np.einsum("jab,jb->ja", np.linalg.inv(transforms[0]), np.c_[first.joints[0].double().numpy(),
                                                                            np.ones(len(transforms[0]))])[:, :3]
        return (first.rest_vertices[0].double().numpy(), first.skinning_indices.numpy(),
                first.skinning_weights.double().numpy(), heads, transforms)
