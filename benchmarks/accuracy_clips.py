"""The clips of benchmarks/accuracy.py: each reconstructed from one fit in three ways — each frame alone
(--topology per-frame, temporal window 0), fused with its neighbours (window K), and as one canonical
person posed per frame (--topology canonical) — scored frame by frame against the clip's ground truth,
beside the fitted body alone, and summarised over all clips, the turning ones and the others."""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from accuracy_data import Clip
from accuracy_report import ClipsSummary
from accuracy_runs import StageSeconds, Variant, body_path, mesh_path, reconstruct
from accuracy_scores import ScoreCache, SequenceScores, score_sequences

SEQUENCES = ("single", "fused", "canonical", "body")  # as in ClipsSummary


@dataclass
class ClipResult:
    clip: Clip
    scores: dict[str, SequenceScores]  # SEQUENCES → the clip's scores
    speeds: dict[str, StageSeconds]  # "single", "fused", "canonical" → seconds per frame by stage


def measure_clips(clips: list[Clip], out: Path, checkpoint: Path, window: int, resolution: int, samples: int,
                  cache: ScoreCache, depth_margin: float) -> tuple[list[ClipResult], list[str]]:
    """Reconstruct and score every clip; returns the results and the clips that failed (with why)."""
    variants = {"single": Variant("window0", checkpoint, 0, depth_margin),
                "fused": Variant(f"window{window}", checkpoint, window, depth_margin),
                "canonical": Variant("canonical", checkpoint, window, depth_margin, topology="canonical")}
    results, failed = [], []
    for clip in clips:
        started = time.perf_counter()
        outcome = reconstruct(clip.frames[0].parent, clip.name, clip.focal, out, list(variants.values()), resolution)
        print(f"clip {clip.name}: {outcome.error or 'ok'} [{time.perf_counter() - started:.0f} s]", flush=True)
        if outcome.error is not None:
            failed.append(f"{clip.name}: {outcome.error}")
            continue
        folders = {key: outcome.variants[variant.name] for key, variant in variants.items()}
        frames = [t for t in range(len(clip.frames)) if all(mesh_path(f, t).exists() for f in folders.values())]
        truths = [clip.truths[t] for t in frames]
        bodies = [body_path(outcome.fitted, t) for t in frames]
        predictions = [[mesh_path(folders[key], t) for t in frames] for key in SEQUENCES[:3]] + [bodies]
        key = ScoreCache.key(truths + [path for paths in predictions for path in paths], samples) + "+far"
        scored = cache.sequence_scores(key)
        if scored is None:
            scored = score_sequences(truths, predictions, samples, bodies)
            cache.put(key, scored)
        results.append(ClipResult(clip, dict(zip(SEQUENCES, scored)),
                                  {name: StageSeconds.from_run(folder) for name, folder in folders.items()}))
    return results, failed


def mean_sequence(scores: list[SequenceScores]) -> SequenceScores | None:
    if not scores:
        return None
    means = {f.name: float(np.mean([getattr(s, f.name) for s in scores])) for f in fields(SequenceScores)}
    means["frames"] = sum(s.frames for s in scores)
    return SequenceScores(**means)


def summarize(results: list[ClipResult], label: str, frames: int, window: int,
              failed: list[str] | None = None) -> ClipsSummary:
    """The means over `results` (one group of clips)."""
    summary = ClipsSummary([f"{r.clip.name} ({r.clip.motion}, {r.clip.yaw_deg:.0f}°)" for r in results], frames,
                           window, label=label, failed=list(failed or []))
    for name in SEQUENCES:
        setattr(summary, name, mean_sequence([r.scores[name] for r in results]))
    for name in ("single", "fused", "canonical"):
        setattr(summary, f"speed_{name}", StageSeconds.median([r.speeds[name] for r in results]))
    return summary


def clip_groups(results: list[ClipResult], failed: list[str], frames: int, window: int) -> list[ClipsSummary]:
    """All clips, then the turning ones and the others (where there are both)."""
    groups = [summarize(results, "all clips", frames, window, failed)]
    turning = [r for r in results if r.clip.turning]
    steady = [r for r in results if not r.clip.turning]
    if turning and steady:
        groups += [summarize(turning, "turning clips", frames, window), summarize(steady, "other clips", frames, window)]
    return groups
