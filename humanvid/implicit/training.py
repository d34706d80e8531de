"""Training the occupancy network on synthetic samples: reproducible, resumable, with validation.

Bodies at inference come from fitting: each joint is off by a few centimetres,
so training jitters the ground-truth keypoints the same way and the network
learns to use the body as a hint, not as the truth. A monocular fit is also
off in overall size and distance together (a body 10 % larger and 10 % farther
projects the same), and the mesh is built around the fitted body; so training
scales whole scenes — keypoints and occupancy points — about the camera, which
leaves every projection unchanged. (Moving the keypoints alone in depth would
ask the network for a depth the image cannot tell: it learns to blur.)
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

from humanvid.errors import HumanvidError
from humanvid.implicit.checkpoint import read_checkpoint, save_checkpoint
from humanvid.implicit.network import NetworkConfig, OccupancyNetwork
from humanvid.implicit.projection import crop_camera
from humanvid.implicit.samples import TrainingSample, find_samples, read_sample


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
    scale_jitter: float = 0.1  # scenes scaled about the camera by exp(U(−j, j))
    color_jitter: float = 0.25  # relative gain / contrast change of the crop's colours


@dataclass
class Batch:
    image: torch.Tensor  # (B, 3, S, S) in [0, 1]
    mask: torch.Tensor  # (B, 1, S, S) in [0, 1]
    camera: torch.Tensor  # (B, 3, 3)
    keypoints: torch.Tensor  # (B, 33, 3)
    points: torch.Tensor  # (B, N, 3)
    inside: torch.Tensor  # (B, N) float


def perturbed_keypoints(keypoints: np.ndarray, config: TrainConfig, rng: np.random.Generator) -> np.ndarray:
    """Keypoints as wrong as a fitted body's joints: (33, 3) → (33, 3)."""
    return keypoints + rng.normal(0, config.keypoint_noise, keypoints.shape)


def balanced_points(sample: TrainingSample, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`count` occupancy samples, half inside and half outside where possible."""
    inside, outside = np.flatnonzero(sample.inside), np.flatnonzero(~sample.inside)
    take_in = min(count // 2, len(inside)) if len(outside) else min(count, len(inside))
    chosen = np.concatenate([rng.choice(inside, take_in, replace=len(inside) < take_in) if take_in else [],
                             rng.choice(outside, count - take_in, replace=len(outside) < count - take_in)])
    chosen = chosen.astype(int)
    return sample.points[chosen], sample.inside[chosen]


def jittered_colors(crop: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    """(S, S, 3) uint8 → the same crop under other light and camera colours (gain per channel, contrast, gamma)."""
    gain = 1.0 + rng.uniform(-strength, strength) + rng.uniform(-0.3 * strength, 0.3 * strength, 3)
    contrast = 1.0 + rng.uniform(-strength, strength)
    gamma = np.exp(rng.uniform(-strength, strength))
    image = (crop.astype(np.float32) / 255.0) ** gamma * gain
    image = (image - image.mean()) * contrast + image.mean()
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def make_batch(samples: list[TrainingSample], config: TrainConfig, rng: np.random.Generator,
               augment: bool = True) -> Batch:
    images, masks, cameras, keypoints, points, inside = [], [], [], [], [], []
    for sample in samples:
        crop = jittered_colors(sample.crop, config.color_jitter, rng) if augment and config.color_jitter else sample.crop
        images.append(torch.from_numpy(crop).permute(2, 0, 1).float() / 255.0)
        masks.append(torch.from_numpy(sample.mask)[None].float() / 255.0)
        cameras.append(crop_camera(torch.tensor(sample.intrinsics[None], dtype=torch.float32),
                                   torch.tensor(sample.affine[None], dtype=torch.float32))[0])
        body = perturbed_keypoints(sample.keypoints, config, rng) if augment else sample.keypoints
        chosen_points, chosen_inside = balanced_points(sample, config.points, rng)
        if augment and config.scale_jitter:
            scale = np.exp(rng.uniform(-config.scale_jitter, config.scale_jitter))
            body, chosen_points = body * scale, chosen_points * scale  # projections stay where they were
        keypoints.append(torch.tensor(body, dtype=torch.float32))
        points.append(torch.tensor(chosen_points, dtype=torch.float32))
        inside.append(torch.tensor(chosen_inside, dtype=torch.float32))
    return Batch(*(torch.stack(part) for part in (images, masks, cameras, keypoints, points, inside)))


def loss_of(network: OccupancyNetwork, batch: Batch) -> torch.Tensor:
    logits = network(batch.image, batch.mask, batch.points, batch.camera, batch.keypoints)
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, batch.inside)


@torch.no_grad()
def validate(network: OccupancyNetwork, samples: list[TrainingSample], config: TrainConfig) -> dict:
    """Occupancy IoU and accuracy on fixed points of the validation samples."""
    network.eval()
    rng = np.random.default_rng(12345)
    intersection = union = correct = total = 0.0
    losses = []
    for start in range(0, len(samples), config.batch):
        batch = make_batch(samples[start:start + config.batch], config, rng, augment=False)
        logits = network(batch.image, batch.mask, batch.points, batch.camera, batch.keypoints)
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
    train = find_samples(data / "train") if (data / "train").is_dir() else find_samples(data)
    val = find_samples(data / "val") if (data / "val").is_dir() else []
    if not train:
        raise HumanvidError(f"{data}: no training samples (folders with sample.npz) found")
    return train, val


def train(data: Path, out: Path, config: TrainConfig = TrainConfig(), network_config: NetworkConfig = NetworkConfig(),
          resume: bool = False, on_step: Callable[[int, float, dict], None] = lambda *_: None) -> dict:
    """Train (or resume training) and write the checkpoint to `out`; returns the last metrics.

    The whole run is a function of the data and `config.seed`: the same command gives the
    same weights on the same machine, and a resumed run continues exactly where it stopped.
    """
    train_paths, val_paths = _split(Path(data))
    torch.manual_seed(config.seed)
    network = OccupancyNetwork(network_config)
    optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step / max(config.steps, 1), 1.0))))
    rng = np.random.default_rng(config.seed)
    step, metrics, seconds = 0, {}, 0.0
    if resume and training_state_path(out).exists():
        state = read_checkpoint(training_state_path(out))
        network.load_state_dict(state["state_dict"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        rng.bit_generator.state = _rng_state_from(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        step, metrics, seconds = int(state["step"]), dict(state["metrics"]), float(state["seconds"])
    val_samples = [read_sample(p) for p in val_paths]
    cache: dict[Path, TrainingSample] = {}
    network.train()
    started = time.perf_counter() - seconds
    while step < config.steps:
        chosen = rng.choice(len(train_paths), config.batch, replace=len(train_paths) < config.batch)
        samples = [_cached_sample(cache, train_paths[i]) for i in chosen]
        loss = loss_of(network, make_batch(samples, config, rng))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        step += 1
        metrics["loss"] = float(loss.detach())
        if val_samples and (step % config.validate_every == 0 or step == config.steps):
            metrics.update(validate(network, val_samples, config))
        if step % config.save_every == 0 or step == config.steps:
            _save(out, network, optimizer, schedule, rng, step, metrics, time.perf_counter() - started, config,
                  len(train_paths))
        on_step(step, metrics["loss"], metrics)
    return metrics


def _cached_sample(cache: dict, path: Path, limit: int = 1000) -> TrainingSample:
    """Samples are read once and kept while the cache is small (about 1 GB at most)."""
    if path in cache:
        return cache[path]
    sample = read_sample(path)
    if len(cache) < limit:
        cache[path] = sample
    return sample


def training_state_path(out: str | Path) -> Path:
    """Where training keeps what resuming needs (optimizer, schedule, RNGs) beside the checkpoint."""
    out = Path(out)
    return out.with_name(out.name + ".state")


def _save(out, network, optimizer, schedule, rng, step, metrics, seconds, config, train_count) -> None:
    """The checkpoint (weights and how they were made: small, shippable) and, beside it, the training state."""
    record = {"step": step, "metrics": metrics, "seconds": seconds, "train_config": dataclasses.asdict(config),
              "train_samples": train_count}
    save_checkpoint(training_state_path(out), network, {
        **record, "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
        "rng": _rng_state_to(rng), "torch_rng": torch.get_rng_state(),
    })
    save_checkpoint(out, network, record)


def _rng_state_to(rng: np.random.Generator) -> dict:
    state = rng.bit_generator.state
    return {"bit_generator": state["bit_generator"], "state": str(state["state"]["state"]),
            "inc": str(state["state"]["inc"]), "has_uint32": state["has_uint32"], "uinteger": state["uinteger"]}


def _rng_state_from(saved: dict) -> dict:
    return {"bit_generator": saved["bit_generator"],
            "state": {"state": int(saved["state"]), "inc": int(saved["inc"])},
            "has_uint32": saved["has_uint32"], "uinteger": saved["uinteger"]}
