"""`humanvid reconstruct --engine ray` on a real Ray cluster of this machine, started by the tests on loopback.

The cluster (`ray start --head`, 2 CPUs, one declared GPU for the resource test) runs in its own process group
with its own token and temporary folder; nothing outside the machine is reached. Ray is required: without it
these tests fail with the install command (CI installs the extra: pip install -e ".[dev,ray]").

Ray gives a one-CPU task OMP_NUM_THREADS=1, and torch's float sums depend on its thread count: the local runs
the Ray runs are compared with use one thread too (with 2 threads, meshes differ by ≤ 0.1 mm).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from helpers import REPO, real_media
from humanvid.engines.chunks import chunk_count, split_frames
from humanvid.engines.ray_engine import RayUnavailable, check_device_request, resource_slots, task_resources
from humanvid.engines.ray_progress import ProgressBoard, describe
from humanvid.exchange.run_folder import WORK_DIR

INSTALL = 'pip install -e ".[ray]"'
ARGS = ["--max-frames", "3", "--resolution", "96", "--export", "none"]
INPUTS = ("soccer_5frames", "street_5frames")


@dataclass
class Cluster:
    address: str
    env: dict  # what a driver of this cluster needs: its token, loopback only


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    try:
        import ray  # noqa: F401
    except ImportError:
        pytest.fail(f"ray is not installed; these tests need it: {INSTALL}")
    temp = tempfile.mkdtemp(prefix="hvray-", dir="/tmp")  # short: Ray's socket paths must fit in 107 characters
    port = _free_port()
    env = dict(os.environ, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0",  # Ray's local-only mode: every address 127.0.0.1
               RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32), RAY_USAGE_STATS_ENABLED="0",
               HUMANVID_TEST_CLUSTER=temp, COLUMNS="200")
    env.pop("RAY_ADDRESS", None)
    log = open(Path(temp) / "head.log", "w+")
    head = subprocess.Popen([str(Path(sys.executable).with_name("ray")), "start", "--head", "--block",
                             "--num-cpus", "2", "--num-gpus", "1", "--port", str(port), "--temp-dir", temp,
                             "--include-dashboard", "false", "--disable-usage-stats"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while "Ray runtime started" not in Path(log.name).read_text():
            assert head.poll() is None, f"ray start failed:\n{Path(log.name).read_text()}"
            assert time.monotonic() < deadline, f"ray start took too long:\n{Path(log.name).read_text()}"
            time.sleep(0.2)
        yield Cluster(f"127.0.0.1:{port}", env)
    finally:
        head.send_signal(signal.SIGTERM)  # `ray start --block` stops what it started (~2 s)
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:  # its process group: the head and the processes it started
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


def humanvid(*args, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "humanvid", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO)


def ray_run(cluster: Cluster, inputs, out: Path, *args) -> subprocess.CompletedProcess:
    return humanvid("reconstruct", *inputs, "-o", out, *ARGS, "--engine", "ray", "--ray-address", cluster.address,
                    *args, env=cluster.env)


@pytest.fixture(scope="module")
def local(tmp_path_factory, cluster) -> Path:
    """The local engine's outputs of both clips, on one thread (see the module's note)."""
    out = tmp_path_factory.mktemp("local")
    env = dict(os.environ, OMP_NUM_THREADS="1", COLUMNS="200")
    result = humanvid("reconstruct", *(real_media(f"{name}.mp4") for name in INPUTS), "-o", out, *ARGS, env=env)
    assert result.returncode == 0, result.stderr
    return out


def run_json(path: Path) -> dict:
    """run.json without its timings, which differ by nature."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not (k.startswith("seconds") or k.endswith("_s"))}
        return [strip(v) for v in value] if isinstance(value, list) else value
    return strip(json.loads(path.read_text()))


def digests(out_dir: Path) -> dict[str, str]:
    found = {}
    for path in sorted(p for p in out_dir.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.name == "run.json":
            data = json.dumps(run_json(path), sort_keys=True).encode()
        found[str(path.relative_to(out_dir))] = hashlib.sha256(data).hexdigest()
    return found


def assert_identical(ours: Path, reference: Path) -> None:
    mine, theirs = digests(ours), digests(reference)
    assert sorted(mine) == sorted(theirs), f"other files: {sorted(set(mine) ^ set(theirs))}"
    differ = [name for name in theirs if mine[name] != theirs[name]]
    assert not differ, f"{ours.name}: files differ from the local run: {differ}"
    with np.load(ours / "body" / "params.npz") as a, np.load(reference / "body" / "params.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def cluster_tasks() -> dict[int, str]:
    """pid → process title of this test cluster's Ray workers ("ray::humanvid-input:NAME" while they run it)."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            if title.startswith("ray::") and b"HUMANVID_TEST_CLUSTER=/tmp/hvray-" in (proc / "environ").read_bytes():
                found[int(proc.name)] = title
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def test_ray_matches_local_and_a_failing_input_does_not_stop_the_others(cluster, local, tmp_path):
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    out = tmp_path / "ray"
    result = ray_run(cluster, [real_media(f"{name}.mp4") for name in INPUTS] + [corrupt], out)
    assert result.returncode == 1, result.stderr  # an input failed; the others are done
    assert "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == \
        [line for line in result.stderr.splitlines() if "corrupt.mp4" in line], result.stderr
    rows = [line for line in result.stdout.splitlines() if ".mp4" in line]
    assert len(rows) == 3 and "failed" in rows[2] and "3 / 3" in rows[0] and "3 / 3" in rows[1], result.stdout
    for name in INPUTS:
        assert_identical(out / name, local / name)
    assert not (out / "corrupt").exists()


def test_chunked_mesh_stage_matches_local(cluster, local, tmp_path):
    seen: set[str] = set()
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            seen.update(cluster_tasks().values())
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = ray_run(cluster, [real_media("soccer_5frames.mp4")], tmp_path, "--mesh-chunks", "3")
    finally:
        stop.set()
        watcher.join()
    assert result.returncode == 0, result.stderr
    assert {f"ray::humanvid-mesh:soccer_5frames#{k}" for k in (1, 2, 3)} <= seen, seen  # one task per frame
    ours, reference = tmp_path / "soccer_5frames", local / "soccer_5frames"
    mine, theirs = digests(ours), digests(reference)
    assert sorted(mine) == sorted(theirs)
    assert len([name for name in theirs if name.startswith("meshes/") and name.endswith(".obj")]) == 3
    assert [name for name in theirs if mine[name] != theirs[name]] in ([], ["run.json"])  # meshes byte-identical
    assert run_json(ours / "run.json") == run_json(reference / "run.json")


def test_chunked_per_frame_meshes_are_byte_identical_after_a_chunk_is_killed(cluster, local, tmp_path):
    """Per-frame meshes fuse each frame with ±2 neighbours: every frame of a chunk reads frames the other chunk
    meshes. The first chunk's worker is killed as it starts; Ray runs it again. The fitted run is copied, so
    only the mesh stage runs."""
    for name in ("local", "ray"):
        shutil.copytree(local / "soccer_5frames", tmp_path / name / "soccer_5frames")
    args = [real_media("soccer_5frames.mp4"), *ARGS, "--topology", "per-frame"]
    result = humanvid("reconstruct", *args, "-o", tmp_path / "local", env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert result.returncode == 0, result.stderr
    process = subprocess.Popen([sys.executable, "-m", "humanvid", "reconstruct", *map(str, args), "-o",
                                str(tmp_path / "ray"), "--engine", "ray", "--ray-address", cluster.address,
                                "--mesh-chunks", "2", "-q"], env=cluster.env, cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    meshes = tmp_path / "ray" / "soccer_5frames" / "meshes"
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, f"the run ended before its chunk was killed: {process.stderr.read()}"
        assert time.monotonic() < deadline
        workers = [pid for pid, title in cluster_tasks().items() if title.endswith("mesh:soccer_5frames#1")]
        if workers:
            os.kill(workers[0], signal.SIGKILL)
            break
        time.sleep(0.02)
    assert not (meshes / "000000.obj").exists(), "the chunk had finished already"
    _, stderr = process.communicate(timeout=240)
    assert process.returncode == 0, stderr
    assert_identical(tmp_path / "ray" / "soccer_5frames", tmp_path / "local" / "soccer_5frames")


def test_killed_worker_is_retried_and_resumes(cluster, local, tmp_path):
    out_dir = tmp_path / "soccer_5frames"
    process = subprocess.Popen([sys.executable, "-m", "humanvid", "reconstruct", str(real_media("soccer_5frames.mp4")),
                                "-o", str(tmp_path), *ARGS, "--engine", "ray", "--ray-address", cluster.address,
                                "-q"], env=cluster.env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    killed = None
    deadline = time.monotonic() + 120
    while killed is None:  # preprocessing done (its work folder gone), the fit running: kill the input's worker
        assert process.poll() is None, f"the run ended before its worker was killed: {process.stderr.read()}"
        assert time.monotonic() < deadline
        manifest = out_dir / "run.json"
        if manifest.exists() and not (out_dir / "body" / "params.npz").exists() and \
                not (out_dir / WORK_DIR).exists() and \
                json.loads(manifest.read_text())["stages"]["preprocess"]["status"] == "complete":
            workers = [pid for pid, title in cluster_tasks().items() if title.endswith("input:soccer_5frames")]
            if workers:
                crops = {p.name: p.stat().st_mtime_ns for p in (out_dir / "crops").glob("*.png")}
                os.kill(workers[0], signal.SIGKILL)
                killed = workers[0]
        time.sleep(0.02)
    assert not (out_dir / "body" / "params.npz").exists(), "killed after the fit, not during it"
    _, stderr = process.communicate(timeout=240)
    assert process.returncode == 0, stderr
    assert killed not in cluster_tasks()
    assert {p.name: p.stat().st_mtime_ns for p in (out_dir / "crops").glob("*.png")} == crops, \
        "the retried task made the crops again instead of resuming"
    assert not list(out_dir.rglob(".*.tmp*")), "temporaries of the killed task remain"
    assert_identical(out_dir, local / "soccer_5frames")


def _as_from_a_terminal() -> None:
    """Ctrl-C's default in the child: a shell's background job (`.ci/run &`) passes SIGINT on ignored, and Python
    then leaves it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_cancels_the_tasks(cluster, tmp_path):
    out_dir = tmp_path / "soccer_5frames"
    process = subprocess.Popen([sys.executable, "-m", "humanvid", "reconstruct", str(real_media("soccer_5frames.mp4")),
                                "-o", str(tmp_path), *ARGS, "--engine", "ray", "--ray-address", cluster.address],
                               env=cluster.env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=_as_from_a_terminal)
    deadline = time.monotonic() + 120
    while not list((out_dir / "crops").glob("*.png")):  # the input's task is at work
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted; rerun the same command to resume" in stderr and "Traceback" not in stderr
    deadline = time.monotonic() + 30
    while [t for t in cluster_tasks().values() if t.startswith("ray::humanvid-")]:
        assert time.monotonic() < deadline, f"tasks still run after Ctrl-C: {cluster_tasks()}"
        time.sleep(0.2)


def test_cuda_tasks_ask_ray_for_a_gpu(cluster, tmp_path):
    """The test cluster declares one GPU: a --device cuda run is scheduled on it (the driver has none). Only
    preprocessing runs, which uses no GPU: what the GPU computes is not measured here (no GPU on this machine)."""
    result = humanvid("reconstruct", real_media("street_5frames.mp4"), "-o", tmp_path, "--max-frames", "2",
                      "--until", "preprocess", "--engine", "ray", "--ray-address", cluster.address,
                      "--device", "cuda", env=cluster.env)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "street_5frames" / "run.json").read_text())["settings"]["device"] == "cuda"


def test_task_resources():
    assert task_resources("input", "cpu") == {"num_cpus": 1, "num_gpus": 0}
    for kind in ("input", "prepare", "mesh"):
        assert task_resources(kind, "cuda") == {"num_cpus": 1, "num_gpus": 1}
    assert task_resources("finish", "cuda") == {"num_cpus": 1, "num_gpus": 0}  # the export uses no GPU

    class NoGpu:
        @staticmethod
        def cluster_resources():
            return {"CPU": 8.0}

    assert resource_slots(NoGpu, "cpu") == 8
    with pytest.raises(RayUnavailable, match="no GPU"):
        resource_slots(NoGpu, "cuda")
    check_device_request("cuda")
    with pytest.raises(Exception, match="use cuda"):
        check_device_request("cuda:1")


def test_chunks_are_contiguous_and_balanced():
    assert split_frames(list(range(10)), 3) == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert split_frames([4, 7], 4) == [[4], [7]]
    assert chunk_count(312, None, 2) == 2 and chunk_count(312, 4, 2) == 4
    assert chunk_count(60, None, 16) == 1 and chunk_count(3, 8, 2) == 3


def test_progress_board_counts_phases():
    board = ProgressBoard()
    board.start("a", "fit", 4)
    board.advance("a", 3)
    board.start("a", "mesh", 2)  # the fit counts as done
    board.start("b", "mesh", 5)
    board.advance("b", 9)
    snapshot = board.snapshot()
    assert (snapshot.completed, snapshot.total) == (9, 11)
    board.end("a")
    board.warn("a", "w")
    board.warn("b", "w")
    snapshot = board.snapshot()
    assert (snapshot.completed, snapshot.total, snapshot.warnings) == (11, 11, ["w"])
    assert describe(snapshot, 1, 2) == "1/2 inputs: b · mesh"


def test_without_ray_one_line_says_how_to_install(tmp_path):
    fake = tmp_path / "site" / "ray"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'ray'\", name='ray')\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "site"), COLUMNS="200")
    result = humanvid("reconstruct", real_media("soccer_5frames.mp4"), "-o", tmp_path / "out", "--engine", "ray",
                      env=env, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'Error: --engine ray needs Ray, which is not installed: pip install -e ".[ray]"  (or: pip install '
        '"ray==2.60.0")']
    assert not (tmp_path / "out").exists()
    usage = humanvid("reconstruct", real_media("soccer_5frames.mp4"), "--ray-address", "auto", env=env, timeout=120)
    assert usage.returncode == 2 and "need --engine ray" in usage.stderr
