"""A run killed with SIGKILL and started again ends exactly like an uninterrupted run."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

from helpers import REPO, real_media, run_cli

# Enough frames that detection is still running when the first crop appears: crops are cut once a
# frame's smoothed box is final, ~57 frames later at 30 frames/s (preprocessing.smoothing.box_support).
FRAMES = 150
ARGS = ["--max-frames", str(FRAMES), "--start", "100", "--until", "preprocess"]


def digest_tree(out_dir):
    """Hash of every output file; run.json without its timings (they differ by nature)."""
    digests = {}
    for path in sorted(out_dir.rglob("*")):
        if path.is_dir():
            continue
        data = path.read_bytes()
        if path.name == "run.json":
            run = json.loads(data)
            for stage in run["stages"].values():
                for key in [k for k in stage if k.endswith("_s")]:
                    del stage[key]
            data = json.dumps(run, sort_keys=True).encode()
        digests[str(path.relative_to(out_dir))] = hashlib.sha256(data).hexdigest()
    return digests


def kill_when(out_root, ready, timeout=120):
    """Start the CLI and SIGKILL it as soon as ready(out_dir) is true."""
    process = subprocess.Popen([sys.executable, "-m", "humanvid", "reconstruct", str(real_media("tennis.mp4")),
                                "-o", str(out_root), "-q", *ARGS], cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out_dir = out_root / "tennis"
    deadline = time.monotonic() + timeout
    try:
        while not ready(out_dir):
            assert process.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.005)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


def finished(folder, suffix=".png"):
    """Files written completely (not the temporaries of a writer in progress)."""
    return [p for p in folder.glob(f"*{suffix}") if not p.name.startswith(".")] if folder.exists() else []


def count(folder, suffix=".png"):
    return len(finished(folder, suffix))


def test_kill_during_each_pass_then_resume_is_identical(tmp_path):
    reference = tmp_path / "reference"
    assert run_cli("reconstruct", real_media("tennis.mp4"), "-o", reference, "-q", *ARGS).returncode == 0

    interrupted = tmp_path / "interrupted"
    # During detection: crops are cut alongside, a smoothing window behind it, so the first crop comes
    # while MediaPipe is still at work; detections.npz, written when it ends, must not exist yet.
    kill_when(interrupted, lambda d: count(d / "crops") >= 1)
    assert not (interrupted / "tennis" / ".work" / "detections.npz").exists(), "killed after detection, not during"
    kill_when(interrupted, lambda d: count(d / "crops") >= 15)  # during cropping
    crops_before = {p.name: p.stat().st_mtime_ns for p in finished(interrupted / "tennis" / "crops")}
    assert 15 <= len(crops_before) < FRAMES

    result = run_cli("reconstruct", real_media("tennis.mp4"), "-o", interrupted, "-q", *ARGS)
    assert result.returncode == 0, result.stderr
    after = {p.name: p.stat().st_mtime_ns for p in finished(interrupted / "tennis" / "crops")}
    assert not list((interrupted / "tennis").rglob(".*.tmp*")), "temporaries of the killed run remain"
    assert all(after[name] == stamp for name, stamp in crops_before.items()), "finished crops were redone"
    assert digest_tree(interrupted / "tennis") == digest_tree(reference / "tennis")
