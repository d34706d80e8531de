"""`humanvid synth` and `humanvid synth-sheet`: seed splits, determinism, resume, clean errors, the sheet."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys

import cv2
import pytest
from helpers import REPO

from humanvid.synth.batch import finished_summary, load_generator, plan_jobs, run_jobs
from humanvid.synth.splits import BLOCKS, SPLITS, seed_block, split_of_seed, split_seeds


def run_command(name: str, *args) -> subprocess.CompletedProcess:
    """`humanvid NAME ARGS` as a user runs it (the command itself if it is not registered in humanvid.cli yet)."""
    from humanvid.cli.main import main

    if name in main.commands:
        launcher = [sys.executable, "-m", "humanvid", name]
    else:
        function = {"synth": "synth_command", "synth-sheet": "sheet_command"}[name]
        launcher = [sys.executable, "-c", f"from humanvid.cli.synth import {function} as c; c(prog_name='humanvid {name}')"]
    return subprocess.run([*launcher, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=REPO,
                          env=dict(os.environ, COLUMNS="200"))


def digests(folder) -> dict[str, str]:
    """sha256 of every file of a sample folder, sample.json without its timings."""
    result = {}
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        if path.name == "sample.json":
            summary = json.loads(data)
            summary.pop("timings")
            data = json.dumps(summary, sort_keys=True).encode()
        result[path.name] = hashlib.sha256(data).hexdigest()
    return result


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """`synth --split test --count 2` made twice, into a/ and b/, with one generator."""
    root = tmp_path_factory.mktemp("synth")
    generator = load_generator(crop=True, threads=2)
    try:
        outcomes = []
        for name in ("a", "b"):
            run_jobs(plan_jobs(root / name, "test", 2, 0, False, 48), 1, True, outcomes.append, generator)
    finally:
        generator.close()
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes]
    return root


def test_split_seed_blocks_are_disjoint():
    spans = sorted((block.first, block.end) for block in BLOCKS)
    assert all(end <= following for (_, end), (following, _) in itertools.pairwise(spans))
    assert {block.split for block in BLOCKS} == set(SPLITS)
    assert not set(split_seeds("test", 50)) & (set(split_seeds("train", 50)) | set(split_seeds("val", 50)))
    assert split_seeds("test", 2, start=3) == [seed_block("test").first + 3, seed_block("test").first + 4]
    assert split_of_seed(split_seeds("val", 1, clips=True)[0]).kind == "clips"
    assert split_of_seed(4) is None  # seeds of unit tests belong to no split
    with pytest.raises(ValueError):
        split_seeds("test", 2, start=seed_block("test").capacity - 1)


def test_same_command_gives_identical_files(made):
    for index in ("000000", "000001"):
        first, second = digests(made / "a" / "test" / index), digests(made / "b" / "test" / index)
        assert {"render.png", "mesh.npz", "occupancy.npz", "body.npz", "sample.json"} <= set(first)
        assert first == second
    summary = json.loads((made / "a" / "test" / "000001" / "sample.json").read_text())
    assert summary["seed"] == seed_block("test").first + 1 and summary["watertight"]
    assert digests(made / "a" / "test" / "000000") != digests(made / "a" / "test" / "000001")


def test_rerun_skips_finished_samples(made):
    folder = made / "a" / "test"
    before = {path: path.stat().st_mtime_ns for path in folder.rglob("*") if path.is_file()}
    result = run_command("synth", "--split", "test", "--count", "2", "-o", made / "a")
    assert result.returncode == 0, result.stderr
    assert "2 of 2 samples already finished" in result.stdout and "samples written: 0" in result.stdout
    after = {path: path.stat().st_mtime_ns for path in before}
    assert before == after
    figures = json.loads((folder / "synth_run.json").read_text())
    assert figures["resumed"] == 2 and figures["watertight"] == 2


def test_unfinished_folders_are_not_skipped(made, tmp_path):
    job = plan_jobs(made / "a", "test", 1, 0, False, 48)[0]
    assert finished_summary(job)["seed"] == job.seed
    other = plan_jobs(tmp_path, "test", 1, 0, False, 48)[0]
    other.folder.mkdir(parents=True)
    (other.folder / "render.png").write_bytes(b"half")
    assert finished_summary(other) is None  # no sample.json: made again
    (other.folder / "sample.json").write_text(json.dumps({"seed": job.seed + 1}))
    assert finished_summary(other) is None  # another seed's sample


@pytest.mark.parametrize("args, fragment", [
    (["--split", "holdout", "--count", "2"], "'holdout' is not one of"),
    (["--split", "test", "--count", "0"], "--count"),
    (["--split", "test", "--count", "2", "--start", "4999999"], "goes past"),
    (["--split", "test", "--count", "2", "--workers", "0"], "--workers"),
])
def test_bad_arguments_are_usage_errors(tmp_path, args, fragment):
    result = run_command("synth", *args, "-o", tmp_path / "out")
    assert result.returncode == 2
    assert fragment in result.stderr and "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "out").exists()


def test_unwritable_output_is_one_clean_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = run_command("synth", "--split", "test", "--count", "1", "-o", blocker / "out")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: cannot write to output folder"), result.stderr


def test_sheet_command_writes_a_png(made, tmp_path):
    sheet = tmp_path / "sheet.png"
    result = run_command("synth-sheet", made / "a", "-o", sheet, "--count", "24", "--tile", "64")
    assert result.returncode == 0, result.stderr
    assert "2 samples of 2 found" in result.stdout
    image = cv2.imread(str(sheet))
    assert image is not None and image.shape[1] > 4 * 64 and image.std() > 10
    empty = run_command("synth-sheet", tmp_path, "-o", tmp_path / "none.png")
    assert empty.returncode == 1 and "no finished samples" in empty.stderr


def test_clip_command_layout_and_a_new_length_remakes_the_clip(tmp_path):
    """`synth --clips`: frames/ holds only the RGB frames; asking for another length remakes the clip."""
    from humanvid.synth.groundtruth_io import read_groundtruth

    result = run_command("synth", "--split", "test", "--clips", "--count", "1", "--frames", "3", "-o", tmp_path,
                         "--workers", "1")
    assert result.returncode == 0, result.stderr
    clip = tmp_path / "test-clips" / "000000"
    assert sorted(p.name for p in (clip / "frames").iterdir()) == ["000000.png", "000001.png", "000002.png"]
    assert (clip / "buffers" / "000002_depth.png").exists() and (clip / "buffers" / "000000_camera.json").exists()
    vertices, faces = read_groundtruth(clip / "meshes" / "000002.npz")
    assert len(faces) > 50_000 and vertices[:, 2].max() < 0  # a person in front of the camera

    again = run_command("synth", "--split", "test", "--clips", "--count", "1", "--frames", "2", "-o", tmp_path,
                        "--workers", "1")
    assert again.returncode == 0, again.stderr
    assert "already finished" not in again.stdout
    assert json.loads((clip / "clip.json").read_text())["frames"] == 2
    for folder in ("frames", "meshes", "occupancy"):
        assert len(list((clip / folder).iterdir())) == 2, folder
    assert len(list((clip / "buffers").iterdir())) == 2 * 5
