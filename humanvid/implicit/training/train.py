"""Training the occupancy network on synthetic samples: reproducible, resumable, with validation.

Bodies at inference come from fitting: each joint is off by a few centimetres,
so training jitters the ground-truth keypoints the same way and the network
learns to use the body as a hint, not as the truth. A monocular fit is also
off in overall size and distance together (a body 10 % larger and 10 % farther
projects the same), and the mesh is built around the fitted body; so training
scales whole scenes — keypoints and occupancy points — about the camera, which
leaves every projection unchanged. (Moving the keypoints alone in depth would
ask the network for a depth the image cannot tell: it learns to blur.)
With the body-SDF feature the body surface moves with its jittered keypoints:
each vertex by the Gaussian-weighted mean of the nearby keypoints' offsets.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.utils.data

from humanvid.landmarks import MIRRORED_LANDMARKS
from humanvid.errors import HumanvidError
from humanvid.geometry.body_distance import BodySurface
from humanvid.implicit.model.checkpoint import read_checkpoint, save_checkpoint
from humanvid.implicit.model.network import NetworkConfig, OccupancyNetwork
from humanvid.projection import crop_camera
from humanvid.implicit.training.samples import TrainingSample, find_samples, read_sample
from humanvid.implicit.training.warm_start import encoder_from, weights_from


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 20_000
    batch: int = 4  # crops per step
    points: int = 2048  # occupancy samples per crop, half inside, half outside
    learning_rate: float = 1e-3
    seed: int = 0
    validate_every: int = 500
    save_every: int = 250
    keypoint_noise: float = 0.02  # metres, per keypoint
    # A smooth error field over the body (metres, per keypoint before smoothing): sideways (x, y) and
    # in depth (z), where a monocular fit errs most. Keypoints and body surface move with it alike.
    field_noise_side: float = 0.0
    field_noise_depth: float = 0.0
    scale_jitter: float = 0.1  # scenes scaled about the camera by exp(U(−j, j))
    color_jitter: float = 0.25  # relative gain / contrast change of the crop's colours
    mirror: bool = False  # half the samples mirrored left–right (the crop, the scene, left and right keypoints)


@dataclass
class Batch:
    image: torch.Tensor  # (B, 3, S, S) uint8 crops, or float in [0, 1] once prepared
    mask: torch.Tensor  # (B, 1, S, S) uint8, or float in [0, 1] once prepared
    camera: torch.Tensor  # (B, 3, 3)
    keypoints: torch.Tensor  # (B, 33, 3)
    points: torch.Tensor  # (B, N, 3)
    inside: torch.Tensor  # (B, N) float
    colors: torch.Tensor  # (B, 5) colour change to apply: gain R, G, B, contrast, gamma (all 1: none)
    body_sdf: torch.Tensor | None = None  # (B, N) signed distance of the points to the body [m]

    def prepared(self, device: str | torch.device = "cpu") -> "Batch":
        """The batch on `device`, its crops as floats in [0, 1] with their colour change applied there
        (a 512² image is cheap to change on the device, slow in numpy)."""
        moved = {f.name: None if getattr(self, f.name) is None else getattr(self, f.name).to(device)
                 for f in dataclasses.fields(self)}
        mask = moved["mask"].float() / 255.0
        image = recolored(moved["image"].float() / 255.0, mask, moved["colors"])
        return dataclasses.replace(Batch(**moved), image=image, mask=mask)


def perturbed_keypoints(keypoints: np.ndarray, config: TrainConfig, rng: np.random.Generator) -> np.ndarray:
    """Keypoints as wrong as a fitted body's joints: (33, 3) → (33, 3)."""
    return keypoints + rng.normal(0, config.keypoint_noise, keypoints.shape)


def interpolated_offsets(points: np.ndarray, keypoints: np.ndarray, offsets: np.ndarray,
                         sigma: float = 0.15) -> np.ndarray:
    """(P, 3) offsets at `points`: the keypoints' (K, 3) offsets, averaged with Gaussian weights (σ [m])
    of the distance to each keypoint (NaN keypoints or offsets are left out)."""
    valid = np.isfinite(keypoints).all(axis=1) & np.isfinite(offsets).all(axis=1)
    at, anchors = points.astype(np.float32), keypoints[valid].astype(np.float32)
    # |p − k|² = |p|² + |k|² − 2 p·k: one product instead of a (P, K, 3) difference
    distance_sq = (at**2).sum(1)[:, None] + (anchors**2).sum(1)[None] - 2 * at @ anchors.T  # (P, K)
    weight = np.exp((distance_sq.min(axis=1, keepdims=True) - distance_sq) * (0.5 / sigma**2))
    weight /= weight.sum(axis=1, keepdims=True)
    return weight @ offsets[valid]


def warped_vertices(vertices: np.ndarray, keypoints: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """(V, 3) body vertices carried along with their keypoints (K, 3) → moved (K, 3)."""
    return vertices + interpolated_offsets(vertices, keypoints, moved - keypoints)


def smooth_keypoint_error(keypoints: np.ndarray, config: TrainConfig, rng: np.random.Generator) -> np.ndarray:
    """(K, 3) offsets of a smooth error field over the body: neighbouring joints err alike, as a
    fitted limb that leans the wrong way in depth."""
    raw = rng.normal(0.0, 1.0, keypoints.shape) * np.array(
        [config.field_noise_side, config.field_noise_side, config.field_noise_depth])
    return interpolated_offsets(np.nan_to_num(keypoints), keypoints, raw)


def balanced_points(sample: TrainingSample, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`count` occupancy samples, half inside and half outside where possible."""
    inside, outside = np.flatnonzero(sample.inside), np.flatnonzero(~sample.inside)
    take_in = min(count // 2, len(inside)) if len(outside) else min(count, len(inside))
    chosen = np.concatenate([rng.choice(inside, take_in, replace=len(inside) < take_in) if take_in else [],
                             rng.choice(outside, count - take_in, replace=len(outside) < count - take_in)])
    chosen = chosen.astype(int)
    return sample.points[chosen], sample.inside[chosen]


NO_COLOR_CHANGE = np.ones(5)


def color_change(strength: float, rng: np.random.Generator) -> np.ndarray:
    """(5,) other light and camera colours: gain R, G, B, contrast, gamma."""
    gain = 1.0 + rng.uniform(-strength, strength) + rng.uniform(-0.3 * strength, 0.3 * strength, 3)
    contrast = 1.0 + rng.uniform(-strength, strength)
    gamma = np.exp(rng.uniform(-strength, strength))
    return np.concatenate([gain, [contrast, gamma]])


def recolored(image: torch.Tensor, mask: torch.Tensor, colors: torch.Tensor) -> torch.Tensor:
    """(B, 3, S, S) in [0, 1] under the colour changes (B, 5); contrast pivots on the mean colour of
    the person (mask (B, 1, S, S)), so the background, which the network never sees, plays no part."""
    gain, contrast, gamma = colors[:, :3, None, None], colors[:, 3, None, None, None], colors[:, 4, None, None, None]
    changed = image.clamp_min(0.0) ** gamma * gain
    mean = (changed * mask).sum((1, 2, 3), keepdim=True) / (3.0 * mask.sum((1, 2, 3), keepdim=True)).clamp_min(1e-6)
    return ((changed - mean) * contrast + mean).clamp(0.0, 1.0)


MIRRORED_KEYPOINTS = np.array(MIRRORED_LANDMARKS)


def mirrored(crop: np.ndarray, mask: np.ndarray, camera: torch.Tensor, keypoints: np.ndarray, points: np.ndarray):
    """The sample's mirror image: the crop flipped left–right, the scene mirrored in the camera's
    y–z plane (x → −x) and the crop camera (3, 3) changed so each mirrored point lands on its flipped
    pixel; the left keypoints become the right ones. Occupancy and distances to the body keep."""
    size = crop.shape[1]
    flip_pixels = torch.tensor([[-1.0, 0.0, size - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    flip_x = torch.diag(torch.tensor([-1.0, 1.0, 1.0]))
    negate_x = np.array([-1.0, 1.0, 1.0])
    return (np.ascontiguousarray(crop[:, ::-1]), np.ascontiguousarray(mask[:, ::-1]), flip_pixels @ camera @ flip_x,
            keypoints[MIRRORED_KEYPOINTS] * negate_x, points * negate_x)


def make_batch(samples: list[TrainingSample], config: TrainConfig, rng: np.random.Generator,
               augment: bool = True, body_sdf: bool = False) -> Batch:
    """Crops, cameras, (jittered) keypoints and labelled points of `samples`; with body_sdf also the
    points' signed distances to the (equally jittered) true body. Crops stay uint8 with their colour
    change beside them: Batch.prepared applies it."""
    images, masks, cameras, keypoints, points, inside, distances, colors = [], [], [], [], [], [], [], []
    for sample in samples:
        jitter = augment and config.color_jitter
        colors.append(color_change(config.color_jitter, rng) if jitter else NO_COLOR_CHANGE)
        camera = crop_camera(torch.tensor(sample.intrinsics[None], dtype=torch.float32),
                             torch.tensor(sample.affine[None], dtype=torch.float32))[0]
        body = perturbed_keypoints(sample.keypoints, config, rng) if augment else sample.keypoints
        if augment and (config.field_noise_side or config.field_noise_depth):
            body = body + smooth_keypoint_error(sample.keypoints, config, rng)
        chosen_points, chosen_inside = balanced_points(sample, config.points, rng)
        scale = 1.0
        if augment and config.scale_jitter:
            scale = np.exp(rng.uniform(-config.scale_jitter, config.scale_jitter))
            body, chosen_points = body * scale, chosen_points * scale  # projections stay where they were
        if body_sdf:
            if sample.body_vertices is None:
                raise HumanvidError("the body-SDF feature needs each sample's true body (read_sample(with_body=True))")
            vertices = warped_vertices(sample.body_vertices.astype(np.float64), sample.keypoints, body / scale)
            surface = BodySurface(vertices * scale, sample.body_faces)
            distances.append(torch.tensor(surface.signed_distance(chosen_points), dtype=torch.float32))
        crop, mask = sample.crop, sample.mask
        if augment and config.mirror and rng.random() < 0.5:
            crop, mask, camera, body, chosen_points = mirrored(crop, mask, camera, body, chosen_points)
        images.append(torch.from_numpy(crop).permute(2, 0, 1))
        masks.append(torch.from_numpy(mask)[None])
        cameras.append(camera)
        keypoints.append(torch.tensor(body, dtype=torch.float32))
        points.append(torch.tensor(chosen_points, dtype=torch.float32))
        inside.append(torch.tensor(chosen_inside, dtype=torch.float32))
    parts = [torch.stack(part) for part in (images, masks, cameras, keypoints, points, inside)]
    return Batch(*parts, colors=torch.tensor(np.stack(colors), dtype=torch.float32),
                 body_sdf=torch.stack(distances) if body_sdf else None)


def loss_of(network: OccupancyNetwork, batch: Batch) -> torch.Tensor:
    """Binary cross-entropy of a prepared batch."""
    logits = network(batch.image, batch.mask, batch.points, batch.camera, batch.keypoints, batch.body_sdf)
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, batch.inside)


@torch.no_grad()
def validate(network: OccupancyNetwork, samples: list[TrainingSample], config: TrainConfig,
             device: str | torch.device = "cpu") -> dict:
    """Occupancy IoU and accuracy on fixed points of the validation samples."""
    network.eval()
    rng = np.random.default_rng(12345)
    intersection = union = correct = total = 0.0
    losses = []
    for start in range(0, len(samples), config.batch):
        batch = make_batch(samples[start:start + config.batch], config, rng, augment=False,
                           body_sdf=network.config.body_sdf).prepared(device)
        logits = network(batch.image, batch.mask, batch.points, batch.camera, batch.keypoints, batch.body_sdf)
        losses.append(float(torch.nn.functional.binary_cross_entropy_with_logits(logits, batch.inside)))
        predicted, truth = logits > 0, batch.inside > 0.5
        intersection += float((predicted & truth).sum())
        union += float((predicted | truth).sum())
        correct += float((predicted == truth).sum())
        total += truth.numel()
    network.train()
    return {"val_loss": float(np.mean(losses)), "val_iou": intersection / max(union, 1.0),
            "val_accuracy": correct / max(total, 1.0)}


def _split(data: Path) -> tuple[list[Path], list[Path]]:
    """Training and validation samples: those of every subfolder named *train and *val (train and
    loose-train, val and loose-val), or, with no such subfolder, every sample under `data` for training."""
    folders = sorted(p for p in data.iterdir() if p.is_dir())
    training = [p for p in folders if p.name.endswith("train")]
    train = [s for p in training for s in find_samples(p)] if training else find_samples(data)
    val = [s for p in folders if p.name.endswith("val") for s in find_samples(p)]
    if not train:
        raise HumanvidError(f"{data}: no training samples (folders with sample.npz) found")
    return train, val


class BatchStream(torch.utils.data.IterableDataset):
    """The training batches of steps first..last−1, in order. Batch k is a function of (seed, k) alone,
    so resuming needs no random state and worker processes (each taking every W-th step, which the
    loader hands back in turn) give the very batches one process would."""

    def __init__(self, paths: list[Path], config: TrainConfig, first: int, last: int, with_body: bool):
        self.paths, self.config, self.first, self.last, self.with_body = paths, config, first, last, with_body
        self.cache: dict[Path, TrainingSample] = {}

    def __iter__(self):
        worker = torch.utils.data.get_worker_info()
        offset, stride = (worker.id, worker.num_workers) if worker else (0, 1)
        for step in range(self.first + offset, self.last, stride):
            yield self.batch(step)

    def batch(self, step: int) -> Batch:
        rng = np.random.default_rng([self.config.seed, step])
        chosen = rng.choice(len(self.paths), self.config.batch, replace=len(self.paths) < self.config.batch)
        samples = [_cached_sample(self.cache, self.paths[i], self.with_body) for i in chosen]
        return make_batch(samples, self.config, rng, body_sdf=self.with_body)


def train(data: Path, out: Path, config: TrainConfig = TrainConfig(), network_config: NetworkConfig = NetworkConfig(),
          resume: bool = False, on_step: Callable[[int, float, dict], None] = lambda *_: None,
          device: str = "cpu", workers: int = 0, init_encoder: Path | None = None,
          init: Path | None = None) -> dict:
    """Train (or resume training) and write the checkpoint to `out`; returns the last metrics.

    The whole run is a function of the data and `config.seed`: the same command gives the
    same weights on the same machine (whatever `workers`: processes that make batches), and a
    resumed run continues exactly where it stopped. On a GPU, atomic additions in the backward
    pass make weights differ in the last bits from run to run. `init_encoder`: a checkpoint whose image
    encoder (same encoder settings) starts this one's; a body-residual network's MLP then starts at
    zero output, so training starts from the body's own occupancy. `init`: a checkpoint the whole
    network starts from (warm_start.weights_from), such as a shipped network given a new feature.
    """
    train_paths, val_paths = _split(Path(data))
    torch.manual_seed(config.seed)
    network = OccupancyNetwork(network_config)
    if init is not None:
        weights_from(network, init)
    if init_encoder is not None:
        encoder_from(network, init_encoder)
    step, metrics, seconds, state = 0, {}, 0.0, None
    if resume and training_state_path(out).exists():
        state = read_checkpoint(training_state_path(out))
        network.load_state_dict(state["state_dict"])
        step, metrics, seconds = int(state["step"]), dict(state["metrics"]), float(state["seconds"])
    network.to(device)
    optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step / max(config.steps, 1), 1.0))))
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
    with_body = network_config.body_sdf
    val_samples = [read_sample(p, with_body) for p in val_paths]
    stream = BatchStream(train_paths, config, step, config.steps, with_body)
    loader = torch.utils.data.DataLoader(stream, batch_size=None, num_workers=workers,
                                         prefetch_factor=4 if workers else None)
    network.train()
    started = time.perf_counter() - seconds
    for batch in loader:
        loss = loss_of(network, batch.prepared(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        step += 1
        metrics["loss"] = float(loss.detach())
        if val_samples and (step % config.validate_every == 0 or step == config.steps):
            metrics.update(validate(network, val_samples, config, device))
        if step % config.save_every == 0 or step == config.steps:
            _save(out, network, optimizer, schedule, step, metrics, time.perf_counter() - started, config,
                  len(train_paths))
        on_step(step, metrics["loss"], metrics)
    return metrics


def _cached_sample(cache: dict, path: Path, with_body: bool, limit: int = 1000) -> TrainingSample:
    """Samples are read once and kept while the cache is small (about 1 GB at most, 1.5 GB with bodies)."""
    if path in cache:
        return cache[path]
    sample = read_sample(path, with_body)
    if len(cache) < limit:
        cache[path] = sample
    return sample


def training_state_path(out: str | Path) -> Path:
    """Where training keeps what resuming needs (optimizer, schedule, RNGs) beside the checkpoint."""
    out = Path(out)
    return out.with_name(out.name + ".state")


def _save(out, network, optimizer, schedule, step, metrics, seconds, config, train_count) -> None:
    """The checkpoint (weights and how they were made: small, shippable) and, beside it, the training state."""
    record = {"step": step, "metrics": metrics, "seconds": seconds, "train_config": dataclasses.asdict(config),
              "train_samples": train_count}
    save_checkpoint(training_state_path(out), network, {
        **record, "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
    })
    save_checkpoint(out, network, record)
