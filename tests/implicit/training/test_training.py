"""Training mechanics on tiny data: the loss goes down, runs are reproducible and resume exactly.

The samples here are simple analytic scenes (a ball seen by the crop camera),
enough to exercise training; accuracy is measured in benchmarks/accuracy.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from humanvid.errors import HumanvidError
from humanvid.implicit.model.checkpoint import load_network
from humanvid.implicit.model.network import NetworkConfig
from humanvid.implicit.training.samples import TrainingSample, write_sample
from humanvid.implicit.training.train import TrainConfig, train
from preprocessing.crop import crop_affine

SMALL = NetworkConfig(feature_channels=16, encoder_channels=16, hidden=32)


def ball_sample(rng: np.random.Generator) -> TrainingSample:
    center = np.array([rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), -rng.uniform(2.5, 3.5)])
    radius = rng.uniform(0.3, 0.5)
    intrinsics = np.array([600.0, 600.0, 319.5, 239.5])
    u = intrinsics[0] * center[0] / -center[2] + intrinsics[2]
    v = intrinsics[3] - intrinsics[1] * center[1] / -center[2]
    pixel_radius = intrinsics[0] * radius / -center[2]
    affine = crop_affine(np.array([u, v]), 2.5 * pixel_radius)
    yy, xx = np.mgrid[0:512, 0:512]
    disk = ((xx - 255.5) ** 2 + (yy - 255.5) ** 2) < (512 / 2.5) ** 2
    crop = np.where(disk[..., None], np.array([200, 80, 60]), np.array([30, 90, 30])).astype(np.uint8)
    points = center + rng.uniform(-0.8, 0.8, (3000, 3))
    keypoints = np.full((33, 3), np.nan)
    keypoints[[11, 12, 23, 24]] = center + rng.normal(0, 0.1, (4, 3))
    return TrainingSample(crop, disk.astype(np.uint8) * 255, intrinsics, affine, keypoints, points,
                          np.linalg.norm(points - center, axis=1) < radius)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    for split, count in (("train", 6), ("val", 2)):
        for i in range(count):
            write_sample(root / split / f"{i:06d}", ball_sample(rng))
    return root


def test_loss_goes_down_and_the_checkpoint_loads(tiny_data, tmp_path):
    config = TrainConfig(steps=40, batch=2, points=512, learning_rate=3e-3, validate_every=40, save_every=20)
    losses = []
    metrics = train(tiny_data, tmp_path / "net.pt", config, SMALL, on_step=lambda s, loss, m: losses.append(loss))
    assert np.mean(losses[-8:]) < 0.7 * np.mean(losses[:8])
    assert metrics["val_iou"] > 0.3
    network = load_network(tmp_path / "net.pt")
    assert network.config == SMALL


def test_same_seed_same_weights_and_exact_resume(tiny_data, tmp_path):
    config = TrainConfig(steps=6, batch=2, points=256, save_every=3, validate_every=100)
    train(tiny_data, tmp_path / "straight.pt", config, SMALL)
    train(tiny_data, tmp_path / "again.pt", config, SMALL)

    def interrupt_after_step_4(step, loss, metrics):
        if step == 4:  # one step past the checkpoint at step 3, as a crash would lose it
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tiny_data, tmp_path / "resumed.pt", config, SMALL, on_step=interrupt_after_step_4)
    train(tiny_data, tmp_path / "resumed.pt", config, SMALL, resume=True)
    reference = load_network(tmp_path / "straight.pt").state_dict()
    for other in ("again.pt", "resumed.pt"):
        weights = load_network(tmp_path / other).state_dict()
        assert all(torch.equal(reference[k], weights[k]) for k in reference), other
    shipped = torch.load(tmp_path / "straight.pt", weights_only=True)
    assert "optimizer" not in shipped and shipped["step"] == 6  # the checkpoint is weights + record only
    assert (tmp_path / "straight.pt.state").stat().st_size > (tmp_path / "straight.pt").stat().st_size


def test_no_samples_is_a_clear_error(tmp_path):
    with pytest.raises(HumanvidError, match="no training samples"):
        train(tmp_path, tmp_path / "net.pt", TrainConfig(steps=1), SMALL)


def write_ball_bodies(root) -> None:
    """Give each ball sample a 'body': a smaller sphere inside the ball (as a body inside clothes)."""
    import trimesh

    from humanvid.implicit.training.samples import find_samples, read_sample

    for folder in find_samples(root):
        sample = read_sample(folder)
        centre = np.nanmean(sample.keypoints, axis=0)
        body = trimesh.creation.icosphere(subdivisions=3, radius=0.25)
        np.savez(folder / "body.npz", vertices=(body.vertices + centre)[None], faces=body.faces)


def test_body_sdf_training_reads_the_bodies_and_learns(tiny_data, tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(tiny_data, data)
    config = TrainConfig(steps=30, batch=2, points=512, learning_rate=3e-3, validate_every=30, save_every=30,
                         field_noise_side=0.02, field_noise_depth=0.05)
    network_config = NetworkConfig(feature_channels=16, encoder_channels=16, hidden=32, body_sdf=True,
                                   context_levels=2)
    with pytest.raises(HumanvidError, match="true body"):
        train(data, tmp_path / "net.pt", config, network_config)
    write_ball_bodies(data)
    losses = []
    train(data, tmp_path / "net.pt", config, network_config, on_step=lambda s, loss, m: losses.append(loss))
    assert np.mean(losses[-6:]) < 0.7 * np.mean(losses[:6])
    assert load_network(tmp_path / "net.pt").config == network_config


def test_noise_moves_keypoints_and_body_together():
    from humanvid.implicit.training.train import smooth_keypoint_error, warped_vertices

    rng = np.random.default_rng(0)
    keypoints = rng.uniform(-0.5, 0.5, (33, 3)) + [0, 0, -3]
    keypoints[5] = np.nan
    vertices = rng.uniform(-0.5, 0.5, (500, 3)) + [0, 0, -3]
    shift = np.array([0.01, -0.02, 0.03])
    assert np.allclose(warped_vertices(vertices, keypoints, keypoints + shift), vertices + shift)
    assert np.allclose(warped_vertices(vertices, keypoints, keypoints), vertices)
    config = TrainConfig(field_noise_side=0.02, field_noise_depth=0.08)
    offsets = np.concatenate([smooth_keypoint_error(keypoints, config, rng) for _ in range(50)])
    assert np.isfinite(offsets).all()
    side, depth = offsets[:, :2].std(), offsets[:, 2].std()
    assert 2.0 < depth / side < 6.0  # the fit errs most in depth
    moved = keypoints + offsets[:33]
    near = np.nanargmin(np.linalg.norm(vertices[:, None] - keypoints[None], axis=2), axis=1)
    vertex_offsets = warped_vertices(vertices, keypoints, moved) - vertices
    # a vertex moves much as its nearest keypoint does: a smooth field, not independent jitter
    assert np.corrcoef(vertex_offsets[:, 2], offsets[:33][near, 2])[0, 1] > 0.5


def test_train_command_defaults_to_the_shipped_features(tiny_data, tmp_path):
    """`humanvid train` with no --features trains what the shipped default network uses."""
    import shutil

    from click.testing import CliRunner

    from humanvid.implicit.model.checkpoint import DEFAULT_CHECKPOINT
    from humanvid.cli.train import train_command

    data = tmp_path / "data"
    shutil.copytree(tiny_data, data)
    write_ball_bodies(data)
    out = tmp_path / "net.pt"
    result = CliRunner().invoke(train_command, ["--data", str(data), "--out", str(out), "--steps", "2",
                                                "--batch", "1", "--points", "64"])
    assert result.exit_code == 0, result.output
    features = ("image_features", "keypoint_encoding", "body_sdf", "context_levels")
    trained, shipped = load_network(out).config, load_network(DEFAULT_CHECKPOINT).config
    assert [getattr(trained, name) for name in features] == [getattr(shipped, name) for name in features]


def test_worker_processes_make_the_same_batches(tiny_data, tmp_path):
    config = TrainConfig(steps=5, batch=2, points=256, save_every=5, validate_every=100)
    train(tiny_data, tmp_path / "alone.pt", config, SMALL)
    train(tiny_data, tmp_path / "workers.pt", config, SMALL, workers=2)
    alone, helped = (load_network(tmp_path / name).state_dict() for name in ("alone.pt", "workers.pt"))
    assert all(torch.equal(alone[k], helped[k]) for k in alone)


def test_colour_change_ignores_the_background_and_none_changes_nothing():
    from humanvid.implicit.training.train import NO_COLOR_CHANGE, recolored

    rng = np.random.default_rng(1)
    image = torch.tensor(rng.uniform(0, 1, (1, 3, 8, 8)), dtype=torch.float32)
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., 2:6, 2:6] = 1.0
    unchanged = torch.tensor(NO_COLOR_CHANGE[None], dtype=torch.float32)
    assert torch.allclose(recolored(image, mask, unchanged), image, atol=1e-6)
    change = torch.tensor([[1.1, 0.9, 1.0, 1.3, 0.8]])
    other_background = torch.where(mask > 0, image, torch.rand_like(image))
    person = (mask > 0).expand_as(image)
    changed = recolored(image, mask, change)
    assert torch.allclose(changed[person], recolored(other_background, mask, change)[person])
    assert not torch.allclose(changed[person], image[person], atol=0.01)


def test_train_command_refuses_an_unknown_device(tiny_data, tmp_path):
    from click.testing import CliRunner

    from humanvid.cli.train import train_command

    result = CliRunner().invoke(train_command, ["--data", str(tiny_data), "--out", str(tmp_path / "net.pt"),
                                                "--steps", "2", "--device", "tpu"])
    assert result.exit_code != 0 and "--device" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "net.pt").exists()


def test_a_compact_copy_keeps_what_the_network_sees(tmp_path):
    from humanvid.implicit.training.samples import compact_sample, read_sample

    sample = ball_sample(np.random.default_rng(3))
    compact = compact_sample(sample, 1000, np.random.default_rng(0))
    assert len(compact.points) == 1000 and len(np.unique(compact.points, axis=0)) == 1000
    original = {tuple(p): label for p, label in zip(sample.points, sample.inside)}
    assert all(original[tuple(p)] == label for p, label in zip(compact.points, compact.inside))
    person = sample.mask > 0
    assert np.array_equal(compact.crop[person], sample.crop[person]) and not compact.crop[~person].any()
    write_sample(tmp_path / "s", compact, crop_suffix=".jpg")
    assert not (tmp_path / "s" / "crop.png").exists()
    back = read_sample(tmp_path / "s")
    assert np.abs(back.crop[person].astype(int) - sample.crop[person]).mean() < 3  # JPEG, quality 95
    assert np.array_equal(back.mask, sample.mask)


def test_a_mirrored_sample_projects_onto_its_flipped_crop():
    from humanvid.projection import crop_camera, project
    from humanvid.implicit.training.train import mirrored

    rng = np.random.default_rng(4)
    sample = ball_sample(rng)
    sample.crop = rng.integers(0, 255, sample.crop.shape, dtype=np.uint8)  # every pixel tells where it is
    sample.keypoints[11] = [0.2, 0.1, -3.0]  # left shoulder
    camera = crop_camera(torch.tensor(sample.intrinsics[None]), torch.tensor(sample.affine[None]))[0].float()
    crop, mask, mirror_camera, keypoints, points = mirrored(sample.crop, sample.mask, camera, sample.keypoints,
                                                            sample.points)
    seen = project(torch.tensor(sample.points[None], dtype=torch.float32), camera[None])[0].round().long()
    seen_mirrored = project(torch.tensor(points[None], dtype=torch.float32), mirror_camera[None])[0].round().long()
    inside = ((seen >= 0) & (seen < 512)).all(1)
    assert inside.sum() > 100
    u, v = seen[inside].T
    mu, mv = seen_mirrored[inside].T
    assert np.array_equal(crop[mv, mu], sample.crop[v, u]) and np.array_equal(mask[mv, mu], sample.mask[v, u])
    assert np.allclose(keypoints[12], [-0.2, 0.1, -3.0])  # the left shoulder, mirrored, is the right one
    again = mirrored(crop, mask, mirror_camera, keypoints, points)
    assert np.array_equal(again[0], sample.crop) and torch.allclose(again[2], camera)
    assert np.allclose(again[4], sample.points) and np.array_equal(again[3], sample.keypoints, equal_nan=True)


def test_mirror_augmentation_mirrors_about_half_the_samples():
    from humanvid.implicit.training.train import make_batch

    rng = np.random.default_rng(5)
    samples = [ball_sample(rng) for _ in range(40)]
    plain = make_batch(samples, TrainConfig(points=64, mirror=False), np.random.default_rng(0))
    mirror = make_batch(samples, TrainConfig(points=64, mirror=True), np.random.default_rng(0))
    flipped = (mirror.camera[:, 0, 2] - plain.camera[:, 0, 2]).abs() > 1e-3
    assert 8 <= int(flipped.sum()) <= 32
    assert torch.equal(mirror.image[flipped], plain.image[flipped].flip(-1))


def test_a_residual_network_starts_from_the_body_and_learns_the_clothes(tiny_data, tmp_path):
    """Network v2's recipe on tiny data: the image encoder taken from another checkpoint, the MLP's output
    zeroed, so before any step the prediction is the body's own occupancy (a sphere of 0.25 m inside a
    ball of 0.3–0.5 m); training then grows it towards the ball and lowers the loss."""
    import shutil

    from humanvid.implicit.training.warm_start import encoder_from

    data = tmp_path / "data"
    shutil.copytree(tiny_data, data)
    write_ball_bodies(data)
    plain = TrainConfig(steps=2, batch=2, points=256, save_every=2, validate_every=100)
    train(data, tmp_path / "encoder.pt", plain, SMALL)
    residual = NetworkConfig(feature_channels=16, encoder_channels=16, hidden=32, body_sdf=True, body_residual=True)

    from humanvid.implicit.model.network import OccupancyNetwork

    network = OccupancyNetwork(residual)
    encoder_from(network, tmp_path / "encoder.pt")
    source = load_network(tmp_path / "encoder.pt")
    assert all(torch.equal(a, b) for a, b in zip(network.encoder.state_dict().values(),
                                                  source.encoder.state_dict().values()))
    image, mask = torch.rand(1, 3, 512, 512), torch.ones(1, 1, 512, 512)
    points = torch.rand(1, 5, 3) + torch.tensor([0.0, 0.0, -3.0])
    keypoints = torch.full((1, 33, 3), float("nan"))
    keypoints[0, 11] = torch.tensor([0.0, 0.0, -3.0])
    sdf = torch.tensor([[-0.2, -0.01, 0.0, 0.01, 0.2]])
    logits = network(image, mask, points, torch.eye(3)[None] * 100, keypoints, sdf)
    assert torch.allclose(logits, torch.tensor([[10.0, 1.0, 0.0, -1.0, -10.0]]))  # −SDF (clamped 0.1) / 1 cm

    from humanvid.implicit.training.samples import find_samples, read_sample
    from humanvid.implicit.training.train import validate

    config = TrainConfig(steps=30, batch=2, points=512, learning_rate=3e-3, validate_every=30, save_every=30)
    val = [read_sample(p, with_body=True) for p in find_samples(data / "val")]
    body_alone = validate(network, val, config)["val_iou"]
    losses = []
    metrics = train(data, tmp_path / "v2.pt", config, residual, on_step=lambda s, loss, m: losses.append(loss),
                    init_encoder=tmp_path / "encoder.pt")
    assert np.mean(losses[-6:]) < 0.8 * np.mean(losses[:6])
    assert metrics["val_iou"] > body_alone + 0.05, (body_alone, metrics["val_iou"])
    assert load_network(tmp_path / "v2.pt").config == residual


def test_a_network_given_the_body_sdf_starts_as_the_checkpoint_it_grows_from(tmp_path):
    """--init: the whole network from a checkpoint without the SDF feature; the new feature's weights start at
    zero, so before any step the logits are the source's whatever the SDF; widths that differ are refused."""
    from humanvid.implicit.model.checkpoint import save_checkpoint
    from humanvid.implicit.model.network import OccupancyNetwork
    from humanvid.implicit.training.warm_start import weights_from

    torch.manual_seed(3)
    source = OccupancyNetwork(SMALL)
    save_checkpoint(tmp_path / "v1.pt", source, {})
    grown = OccupancyNetwork(NetworkConfig(feature_channels=16, encoder_channels=16, hidden=32, body_sdf=True))
    weights_from(grown, tmp_path / "v1.pt")
    image, mask = torch.rand(1, 3, 512, 512), (torch.rand(1, 1, 512, 512) > 0.3).float()
    points = torch.rand(1, 50, 3) * 0.4 + torch.tensor([-0.2, -0.2, -3.2])
    keypoints = torch.rand(1, 33, 3) * 0.6 + torch.tensor([-0.3, -0.3, -3.3])
    camera = torch.tensor([[[800.0, 0, 256], [0, 800.0, 256], [0, 0, 1]]])
    with torch.no_grad():
        expected = source(image, mask, points, camera, keypoints)
        for sdf in (torch.zeros(1, 50), torch.rand(1, 50) - 0.5):
            assert torch.allclose(grown(image, mask, points, camera, keypoints, sdf), expected, atol=1e-5)
    assert grown.mlp.first[0].weight[:, -1].abs().sum() == 0
    assert not torch.equal(grown.mlp.first[0].weight[:, :-1], torch.zeros_like(grown.mlp.first[0].weight[:, :-1]))
    wider = OccupancyNetwork(NetworkConfig(feature_channels=16, encoder_channels=16, hidden=48, body_sdf=True))
    with pytest.raises(HumanvidError, match="other settings"):
        weights_from(wider, tmp_path / "v1.pt")


def test_a_residual_network_needs_the_body_sdf():
    with pytest.raises(ValueError, match="body-SDF"):
        NetworkConfig(body_residual=True)


def test_every_train_and_val_subfolder_is_read(tiny_data, tmp_path):
    """train/ and loose-train/ both train, val/ and loose-val/ both validate."""
    import shutil

    from humanvid.implicit.training.train import _split

    for split in ("train", "val"):
        shutil.copytree(tiny_data / split, tmp_path / split)
        shutil.copytree(tiny_data / split, tmp_path / f"loose-{split}")
    (tmp_path / "notes.log").write_text("not a split")
    train_paths, val_paths = _split(tmp_path)
    assert len(train_paths) == 12 and len(val_paths) == 4
    assert {p.parent.name for p in train_paths} == {"train", "loose-train"}
