"""Surface scores for benchmarks/accuracy.py, in two protocols, and the temporal scores of a clip.

- camera frame: the meshes as exported (camera frame of the input), compared as they are;
- aligned: each predicted mesh first scaled about the camera centre by the factor that brings
  its surface samples closest to the truth's (symmetric mean nearest-sample distance). Monocular
  depth and size are ambiguous together: a fitted body 10 % too large and 10 % too far projects
  exactly like the true one, and the clothed mesh built around it inherits both. Scaling about
  the camera centre changes no projection, so this protocol removes that ambiguity and nothing
  else (an earlier version matched centroids and RMS radii, which also moved and resized the
  shape: it scored a mesh made from the true body worse than the same mesh unaligned).

Metrics are humanvid.evaluation.metrics' (PIFu/ICON protocol): Chamfer and P2S in cm, normal
consistency; every surface is sampled with fixed seeds, so scores are deterministic.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from accuracy_data import load_truth
from humanvid.exchange.obj import obj_trimesh
from humanvid.evaluation.metrics import (PreparedSurface, SurfaceIndex, SurfaceSamples, best_depth_scale,
                                         compare_surfaces, excess_surface_change, prepare_surface)

PRED_SEED, TRUTH_SEED = 0, 2  # as metrics.surface_metrics and `humanvid evaluate`


@dataclass
class SurfaceScore:
    chamfer_cm: float
    p2s_cm: float
    normal_consistency: float


@dataclass
class MeshScores:
    """One predicted mesh against its ground truth in both protocols."""

    camera: SurfaceScore
    aligned: SurfaceScore


def read_mesh(path: Path):
    """A predicted OBJ as a trimesh, or None when the pipeline wrote none (or an empty one)."""

    if not path.exists():
        return None
    mesh = obj_trimesh(path)
    return mesh if len(mesh.faces) else None


def prepare_truth(mesh, samples: int) -> PreparedSurface:
    return prepare_surface(mesh, samples, TRUTH_SEED)


def score(prepared: PreparedSurface, truth: PreparedSurface) -> SurfaceScore:
    result = compare_surfaces(prepared, truth)
    return SurfaceScore(result.chamfer_cm, result.p2s_cm, result.normal_consistency)


def aligned(prepared: PreparedSurface, truth: PreparedSurface) -> PreparedSurface:
    """`prepared` scaled about the camera centre (the origin) by best_depth_scale: what preparing
    the scaled mesh would give (same samples, scaled), without sampling it again."""
    scale = best_depth_scale(prepared.samples.points, truth.samples.points)
    mesh = prepared.mesh.copy()
    mesh.vertices = mesh.vertices * scale
    samples = SurfaceSamples(prepared.samples.points * scale, prepared.samples.normals)
    index = SurfaceIndex(mesh, cKDTree(prepared.index.tree.data * scale), prepared.index.point_faces)
    return PreparedSurface(mesh, samples, index)


def score_mesh(mesh, truth: PreparedSurface, samples: int) -> MeshScores:
    """Scores of `mesh` (camera frame) against a prepared ground truth, raw and aligned (depth scale)."""
    prepared = prepare_surface(mesh, samples, PRED_SEED)
    return MeshScores(score(prepared, truth), score(aligned(prepared, truth), truth))


@dataclass
class SequenceScores:
    """One mesh sequence against the ground-truth sequence of the same frames."""

    frames: int
    excess_change_cm: float  # mean max(0, predicted − true frame-to-frame Chamfer), camera frame
    pred_change_cm: float
    truth_change_cm: float
    chamfer_cm: float  # mean per-frame Chamfer, camera frame
    chamfer_aligned_cm: float
    p2s_aligned_cm: float = float("nan")
    normal_aligned: float = float("nan")  # normal consistency, aligned
    far_share: float = float("nan")  # share of predicted vertices farther than FAR from the fitted body


@dataclass
class SequenceTally:
    """The scores of one predicted sequence, fed a frame at a time (only the previous frame is kept)."""

    excess: list = field(default_factory=list)
    pred_change: list = field(default_factory=list)
    truth_change: list = field(default_factory=list)
    camera: list = field(default_factory=list)
    aligned: list = field(default_factory=list)
    p2s: list = field(default_factory=list)
    normal: list = field(default_factory=list)
    far: list = field(default_factory=list)
    previous: PreparedSurface | None = None

    def add(self, pred: PreparedSurface, truth: PreparedSurface, previous_truth: PreparedSurface | None,
            far_share: float = float("nan")) -> None:
        self.camera.append(score(pred, truth).chamfer_cm)
        in_line = score(aligned(pred, truth), truth)
        self.aligned.append(in_line.chamfer_cm)
        self.p2s.append(in_line.p2s_cm)
        self.normal.append(in_line.normal_consistency)
        self.far.append(far_share)
        if self.previous is not None:  # the excess over a pair of frames; over the clip it is the mean of these
            excess, pred_change, truth_change = excess_surface_change([self.previous, pred], [previous_truth, truth])
            self.excess.append(excess)
            self.pred_change.append(float(pred_change[0]))
            self.truth_change.append(float(truth_change[0]))
        self.previous = pred

    def scores(self) -> SequenceScores:
        return SequenceScores(len(self.camera), mean(self.excess), mean(self.pred_change), mean(self.truth_change),
                              mean(self.camera), mean(self.aligned), mean(self.p2s), mean(self.normal),
                              mean(self.far))


FAR = 0.25  # metres from the fitted body beyond which a predicted vertex counts as far


def far_share(mesh, body) -> float:
    """The share of `mesh`'s vertices farther than FAR from `body`'s vertices."""
    from scipy.spatial import cKDTree

    return float((cKDTree(body.vertices).query(mesh.vertices, workers=-1)[0] > FAR).mean())


def score_sequences(truths: list[Path], predictions: list[list[Path]], samples: int,
                    bodies: list[Path] | None = None) -> list[SequenceScores]:
    """Scores of each predicted sequence (one mesh file per ground-truth ``mesh.npz``), frame by frame:
    a 48-frame clip of ~400k-face meshes would not fit in memory prepared all at once. With the fitted
    `bodies` (one OBJ per frame), also the share of each prediction's vertices far from them."""
    tallies = [SequenceTally() for _ in predictions]
    previous_truth = None
    for frame, truth_path in enumerate(truths):
        truth = prepare_truth(load_truth(truth_path), samples)
        body = read_mesh(bodies[frame]) if bodies is not None else None
        for tally, paths in zip(tallies, predictions):
            mesh = read_mesh(paths[frame])
            far = far_share(mesh, body) if body is not None else float("nan")
            tally.add(prepare_surface(mesh, samples, PRED_SEED), truth, previous_truth, far)
        previous_truth = truth
    return [tally.scores() for tally in tallies]


def mean(values) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


class ScoreCache:
    """Scores already computed, on disk beside the reconstructions, so a rerun scores only what changed.

    Keyed by the files compared (path, size, modification time) and the sample count: a mesh made
    again gets a new key. Scoring is most of the benchmark's time (~5 s per mesh)."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.entries = json.loads(path.read_text())
        except (OSError, ValueError):
            self.entries = {}

    @staticmethod
    def key(files: list[Path], samples: int) -> str:
        parts = [f"{f.resolve()}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files]
        return "|".join(parts + [str(samples)])

    def mesh_scores(self, key: str) -> MeshScores | None:
        entry = self.entries.get(key)
        return None if entry is None else MeshScores(SurfaceScore(**entry["camera"]), SurfaceScore(**entry["aligned"]))

    def sequence_scores(self, key: str) -> list[SequenceScores] | None:
        entry = self.entries.get(key)
        return None if entry is None else [SequenceScores(**scores) for scores in entry]

    def put(self, key: str, value) -> None:
        from humanvid import atomic

        self.entries[key] = [dataclasses.asdict(v) for v in value] if isinstance(value, list) \
            else dataclasses.asdict(value)
        atomic.write_text(self.path, json.dumps(self.entries))
