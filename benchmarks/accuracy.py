"""Clothed-mesh accuracy of `humanvid reconstruct` on the synthetic TEST split (stills and clips), and its speed.

    python benchmarks/accuracy.py [--checkpoint checkpoints/occupancy_v1.pt] [--ablation PATH ...]
                                  [--count 48] [--clips 2 --clip-frames 48]

Stills: each ``DATA/test/NNNNNN/render.png`` goes through the real pipeline
(humanvid.pipeline.run_job, in-process: preprocess → fit → mesh, temporal window 0, with the
render's focal as --focal so the pipeline's camera is the render camera); the meshes, which are
in that camera frame, are compared with the ground-truth clothed surface (``mesh.npz``). Rows:
(a) the fitted body alone, (b) the network with image features only, (c) image features +
keypoint encoding, (d) + body SDF. By default each is meshed as `humanvid reconstruct` meshes it: the
stills, single images, within the body's depth band (PHOTO_DEPTH_MARGIN), the clips, videos, without;
with --depth-margin M, rows (c), (d), (h), (t) and the clips are meshed within M of the body's depth
(0: none), and the results go to a section of their own. Row (b), image features only, never is (it must
not learn of the body from meshing either). Each checkpoint (--checkpoint, the shipped default, and any
--ablation) fills the row of the features it was trained with. All rows mesh the same fitted body,
except the oracle row (t): the default network given the true body (ground-truth keypoints, the sample's own crop), which tells the network's
share of the error from the fit's, and row (u): that true body alone, naked (how far the clothed truth is from
the body, and so what a network adds where the body is right); with --known-height also row (h): the whole pipeline with the
person's true height given, as `--height` does. Stills where MediaPipe finds nobody are counted
and left out. Two protocols: "camera" (meshes as exported) and "aligned" (each prediction
scaled about the camera centre by the factor that best matches the truth: monocular size and
depth are ambiguous together, the fitted body can be ~10–20 % too large and too far, and
scaling about the camera centre changes no projection; see accuracy_scores.py).

Clips: ``humanvid synth --split test --clips`` clips reconstructed with temporal window 0 and
--temporal-window (fitted once): excess frame-to-frame surface change against the ground-truth
sequence, and mean per-frame Chamfer; the fitted body's sequence is scored too (the change the fit brings). Speed: seconds per frame by stage, from each run.json.
Missing test data is generated (deterministic seeds); outputs and scores (scores.json) stay in --out, so a
rerun resumes and scores only meshes that changed.
Writes its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

import numpy as np

from accuracy_data import Still, ensure_clips, ensure_stills, load_truth
from accuracy_clips import clip_groups, measure_clips
from accuracy_report import (ClipsSummary, RowSummary, StillsSummary, Table, clips_table, improvements,
                             speed_table, stills_table, temporal_lines)
from accuracy_rows import known_height_meshes, oracle_meshes, true_body_meshes
from accuracy_runs import Outcome, StageSeconds, Variant, body_path, mesh_path, reconstruct
from accuracy_scores import (MeshScores, ScoreCache, SurfaceScore, prepare_truth, read_mesh,
                             score_mesh)
from common import REPO, RESULTS, write_section

from humanvid.constants import PHOTO_DEPTH_MARGIN, VIDEO_DEPTH_MARGIN

ROW_LABELS = {
    "a": "(a) fitted body alone",
    "b": "(b) image features only",
    "c": "(c) image + keypoint encoding",
    "d": "(d) + body SDF",
    "e": "(e) + body SDF, residual over the body's occupancy (v2)",
    "h": "default network, the fit told the person's height (--height)",
    "t": "default network given the true body (oracle)",
    "u": "the true body alone (what a perfect fit gives without a network)",
}
ROW_VARIANTS = {"b": "image", "c": "image_keypoints", "d": "image_keypoints_sdf", "e": "image_keypoints_residual"}  # row → folder of its meshes under OUT/stills/
FEATURE_ROWS = {("image_features",): "b", ("image_features", "keypoint_encoding"): "c",
                ("image_features", "keypoint_encoding", "body_sdf"): "d",
                ("image_features", "keypoint_encoding", "body_sdf", "body_residual"): "e"}


def parse_args() -> argparse.Namespace:
    from humanvid.implicit.model.checkpoint import DEFAULT_CHECKPOINT

    parser = argparse.ArgumentParser(
        description="Accuracy and speed of humanvid's clothed meshes on the synthetic test split (stills and "
                    "clips), through the real pipeline; writes its section of benchmarks/RESULTS.md.",
        epilog="Full run: python benchmarks/accuracy.py --ablation IMAGE_ONLY.pt --ablation KEYPOINTS.pt "
               "(48 stills, 2 clips × 48 frames). Quick check: --count 2 --clips 1 --clip-frames 6 --no-write.",
    )  # fmt: skip
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, metavar="PATH",
                        help="the default network: its row, the oracle row and the clips (default: %(default)s)")
    parser.add_argument("--ablation", type=Path, action="append", default=[], metavar="PATH",
                        help="another network for the row of its features (repeatable); rows without one say "
                             "'no checkpoint given'")
    parser.add_argument("--data", type=Path, default=REPO.parent / "data" / "synth", metavar="DIR",
                        help="synthetic data: stills in DIR/test, clips in DIR/clips-<frames>/test-clips; "
                             "made with `humanvid synth --split test …` where missing (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "humanvid_accuracy", metavar="DIR",
                        help="where the reconstructions go; kept, so a rerun resumes (default: %(default)s)")
    parser.add_argument("--split", default="test", choices=("test", "loose-test"),
                        help="stills of the current test split or of the loose-clothes one (default: %(default)s)")
    parser.add_argument("--count", type=int, default=48, metavar="N",
                        help="measure the first N test stills (default: %(default)s, all)")
    parser.add_argument("--clips", type=int, default=2, metavar="C", help="test clips, 0 for none (default: %(default)s)")
    parser.add_argument("--turn-clips", type=int, default=0, metavar="C",
                        help="clips of the turn family (`--split turn-test`: people who turn and who do not), "
                             "0 for none (default: %(default)s)")
    parser.add_argument("--clip-frames", type=int, default=48, metavar="F", help="frames per clip (default: %(default)s)")
    parser.add_argument("--temporal-window", type=int, default=2, metavar="K",
                        help="temporal window compared with 0 on the clips (default: %(default)s)")
    parser.add_argument("--resolution", type=int, default=256, metavar="R",
                        help="meshing grid, R³ (default: %(default)s)")
    parser.add_argument("--samples", type=int, default=10_000, metavar="N",
                        help="points sampled on each surface by the metrics (default: %(default)s)")
    parser.add_argument("--known-height", action="store_true",
                        help="also fit each still told the person's true height (--height) and mesh it with the "
                             "default network: row (h)")
    parser.add_argument("--depth-margin", type=float, default=None, metavar="M",
                        help="mesh rows (c), (d), (h), (t) and the clips within M metres of the body's depth, as "
                             "`humanvid reconstruct --depth-margin` (default: the pipeline's, a band of "
                             f"{PHOTO_DEPTH_MARGIN:g} m for the stills and none for the clips)")
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    args = parser.parse_args()
    args.still_margin = PHOTO_DEPTH_MARGIN if args.depth_margin is None else args.depth_margin
    args.clip_margin = VIDEO_DEPTH_MARGIN if args.depth_margin is None else args.depth_margin
    if min(args.count, args.temporal_window, args.resolution, args.samples) < 1 or min(args.clips, args.turn_clips) < 0 \
            or args.clip_frames < 2:
        parser.error("--count, --temporal-window, --resolution and --samples must be ≥ 1, --clip-frames ≥ 2")
    return args


def checkpoint_row(path: Path) -> tuple[str, str]:
    """The row a checkpoint fills (by the features it was trained with) and its description."""
    from humanvid.errors import HumanvidError
    from humanvid.implicit.model.checkpoint import read_checkpoint

    try:
        payload = read_checkpoint(path)
    except HumanvidError as err:
        raise SystemExit(str(err)) from None
    config = payload["config"]
    features = tuple(name for name in ("image_features", "keypoint_encoding", "body_sdf", "body_residual")
                     if config.get(name))
    if features not in FEATURE_ROWS:
        raise SystemExit(f"{path}: its network uses {' + '.join(features) or 'no features'}, which is no row here")
    step = payload.get("step")
    return FEATURE_ROWS[features], f"{path.name} ({' + '.join(features)}{'' if step is None else f', step {step}'})"


def row_variant(row: str, checkpoint: Path, depth_margin: float) -> Variant:
    """How a row's network meshes the stills: (b) without the body's depth band, the others with `depth_margin`."""
    return Variant(ROW_VARIANTS[row], checkpoint, depth_margin=0.0 if row == "b" else depth_margin)


def checkpoint_tag(path: Path) -> str:
    """A folder name for what a checkpoint made: its name and the start of its content hash."""
    import hashlib

    return f"{path.stem}-{hashlib.sha1(path.read_bytes()).hexdigest()[:10]}"


def reconstruct_stills(stills: list[Still], out: Path, variants: list[Variant], resolution: int) -> list[Outcome]:
    outcomes = []
    for index, still in enumerate(stills):
        started = time.perf_counter()
        outcome = reconstruct(still.image, still.name, still.focal, out, variants, resolution)
        state = "ok" if outcome.error is None else outcome.error
        print(f"still {still.name} ({index + 1}/{len(stills)}): {state} [{time.perf_counter() - started:.0f} s]",
              flush=True)
        outcomes.append(outcome)
    return outcomes


def still_predictions(outcome: Outcome, extra: dict[str, Path]) -> dict[str, Path]:
    """Row key → the predicted mesh file of an image input (frame 0); `extra`: the meshes of the
    rows made outside the pipeline's variants (t, h)."""
    paths = {"a": body_path(outcome.fitted, 0)}
    paths.update({key: mesh_path(outcome.variants[name], 0) for key, name in ROW_VARIANTS.items()
                  if name in outcome.variants})
    return paths | extra


def score_stills(stills: list[Still], outcomes: list[Outcome], extra_rows: dict[str, dict[str, Path]],
                 samples: int, cache: ScoreCache) -> dict[str, dict[str, MeshScores]]:
    """Row key → still name → scores, for every mesh the pipeline (and the extra rows: row → still
    name → mesh) produced."""
    scores: dict[str, dict[str, MeshScores]] = {}
    for still, outcome in zip(stills, outcomes):
        if outcome.error is not None:
            continue
        truth = None
        extra = {row: meshes[still.name] for row, meshes in extra_rows.items() if still.name in meshes}
        for key, path in still_predictions(outcome, extra).items():
            if not path.exists():
                continue
            cache_key = ScoreCache.key([path, still.truth], samples)
            score = cache.mesh_scores(cache_key)
            if score is None:
                mesh = read_mesh(path)
                if mesh is None:
                    continue
                truth = truth or prepare_truth(load_truth(still.truth), samples)
                score = score_mesh(mesh, truth, samples)
                cache.put(cache_key, score)
            scores.setdefault(key, {})[still.name] = score
    return scores


def mean_score(scores: list[SurfaceScore]) -> SurfaceScore:
    return SurfaceScore(*(float(np.mean([getattr(s, f.name) for s in scores])) for f in fields(SurfaceScore)))


def summarize_stills(stills: list[Still], outcomes: list[Outcome], scores: dict[str, dict[str, MeshScores]],
                     sources: dict[str, str], default_row: str) -> StillsSummary:
    reconstructed = [o.name for o in outcomes if o.error is None]
    measured = [key for key in ROW_LABELS if key in sources]
    common = [name for name in reconstructed if all(name in scores.get(key, {}) for key in measured)]
    rows = []
    for key, label in ROW_LABELS.items():
        if key not in sources:
            if key in ROW_VARIANTS:  # a network row without its checkpoint; (h) is simply not asked for
                rows.append(RowSummary(key, label, "—", "no checkpoint given"))
            continue
        chosen = [scores[key][name] for name in common]
        rows.append(RowSummary(key, label, sources[key], None, len(scores.get(key, {})),
                               mean_score([s.camera for s in chosen]) if chosen else None,
                               mean_score([s.aligned for s in chosen]) if chosen else None))
    speeds = [StageSeconds.from_run(o.variants[ROW_VARIANTS[default_row]]) for o in outcomes
              if ROW_VARIANTS[default_row] in o.variants]
    return StillsSummary(
        rows, len(stills), len(reconstructed), len(common),
        no_person=[o.name for o in outcomes if o.no_person],
        failed=[f"{o.name}: {o.error}" for o in outcomes if o.error is not None and not o.no_person],
        speed=StageSeconds.median(speeds),
    )  # fmt: skip


def markdown(args: argparse.Namespace, stills: StillsSummary, clips: ClipsSummary | None, tables: list[Table],
             notes: list[str]) -> str:
    command = "python benchmarks/accuracy.py " + shlex.join(sys.argv[1:])
    excluded = f"{len(stills.no_person)} without a person found by MediaPipe ({', '.join(stills.no_person) or '—'})"
    failed = f"; {len(stills.failed)} failed: {'; '.join(stills.failed)}" if stills.failed else ""
    clip_text = "" if clips is None else (
        f" Clips: {', '.join(clips.clips)} (`humanvid synth --split {args.split} --clips --frames {clips.frames}`, and "
        "`--split turn-test` for the turn family; turning: the person's facing covers ≥ 120° over the clip), "
        f"reconstructed from one fit per clip with `--topology per-frame` and temporal window 0 and {clips.window}, "
        "and with `--topology canonical`; excess change is mean max(0, predicted − true frame-to-frame Chamfer), "
        "camera frame; far: the share of mesh vertices more than 25 cm from the fitted body.")
    title = "" if args.depth_margin is None else f", depth band {args.depth_margin:g} m (--depth-margin)"
    title += "" if args.split == "test" else f", {args.split} split"
    body = f"""## Clothed-mesh accuracy{title} (`benchmarks/accuracy.py`)

`{command}`

Synthetic {args.split} stills 000000–{stills.stills - 1:06d} (`humanvid synth --split {args.split}`), each `render.png` through
the real pipeline in-process (preprocess → fit → mesh; `--focal` = the render's fx, temporal window 0,
resolution {args.resolution}); ground truth: the clothed surface `mesh.npz`, camera frame. {stills.reconstructed} of
{stills.stills} reconstructed, {excluded}{failed}; means over the {stills.common} stills meshed by every row.
Protocols: **camera** = meshes as exported; **aligned** = each prediction scaled about the camera
centre by the factor (0.5–2) that brings its surface samples closest to the truth's (monocular size and
depth are ambiguous together: a body 10 % too large and 10 % too far projects the same, and this
scaling changes no projection), so it removes that ambiguity and nothing else. Chamfer = ½ (P2S both ways), {args.samples} samples per surface (PIFu/ICON protocol).{clip_text}

"""
    for table in tables:
        body += f"**{table.title}**\n\n{table.markdown()}\n\n"
    body += "\n".join(f"- {note}" for note in notes) + "\n"
    return body


def main() -> None:
    args = parse_args()
    import torch
    from rich.console import Console

    torch.set_num_threads(2)
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 170)
    default_row, default_source = checkpoint_row(args.checkpoint)
    sources = {"a": "body/000000.obj", default_row: default_source}
    variants = [row_variant(default_row, args.checkpoint.resolve(), args.still_margin)]
    for path in args.ablation:
        row, source = checkpoint_row(path)
        if row in sources:
            raise SystemExit(f"{path}: row ({row}) already has {sources[row]}")
        sources[row] = source
        variants.append(row_variant(row, path.resolve(), args.still_margin))
    data = args.data.resolve()

    stills = ensure_stills(data, args.count, args.split)
    outcomes = reconstruct_stills(stills, args.out.resolve() / "stills", variants, args.resolution)
    started = time.perf_counter()
    band = f"-band{args.still_margin:g}" if args.still_margin else ""
    oracle_folder = args.out.resolve() / "stills" / "true_body" / f"{checkpoint_tag(args.checkpoint)}{band}"
    oracles = oracle_meshes(stills, oracle_folder, args.checkpoint.resolve(), args.resolution, args.still_margin)
    sources["t"] = f"{default_source} with the true body"
    print(f"meshed {len(oracles)} stills from their true bodies [{time.perf_counter() - started:.0f} s]", flush=True)
    extra_rows = {"t": oracles, "u": true_body_meshes(stills, args.out.resolve() / "stills" / "true_body" / "body")}
    sources["u"] = "body.npz of each still"
    if args.known_height:
        started = time.perf_counter()
        extra_rows["h"] = known_height_meshes(stills, args.out.resolve() / "stills" / "known_height",
                                              args.checkpoint.resolve(), args.resolution, args.still_margin)
        sources["h"] = f"{default_source}, fit with --height"
        print(f"meshed {len(extra_rows['h'])} stills told the true height [{time.perf_counter() - started:.0f} s]",
              flush=True)
    started = time.perf_counter()
    cache = ScoreCache(args.out.resolve() / "scores.json")
    stills_summary = summarize_stills(stills, outcomes, score_stills(stills, outcomes, extra_rows, args.samples, cache),
                                      sources, default_row)
    print(f"scored the stills [{time.perf_counter() - started:.0f} s]", flush=True)
    clips_summary, groups = None, []
    if args.clips + args.turn_clips > 0:
        clips = ensure_clips(data, args.clips, args.clip_frames, split=args.split) + \
            ensure_clips(data, args.turn_clips, args.clip_frames, split="turn-test")
        scored, failed = measure_clips(clips, args.out.resolve() / "clips", args.checkpoint.resolve(),
                                       args.temporal_window, args.resolution, args.samples, cache, args.clip_margin)
        groups = clip_groups(scored, failed, args.clip_frames, args.temporal_window)
        clips_summary = groups[0]

    tables = [stills_table(stills_summary)]
    notes = ["checkpoints: " + "; ".join(f"({row}) {sources.get(row, 'no checkpoint given')}" for row in "bcde")
             + f"; default: ({default_row})",
             *improvements(stills_summary, default_row)]
    if args.depth_margin is None:
        notes.append(f"as `humanvid reconstruct` does by default: rows (c), (d), (h), (t) meshed within the body's "
                     f"depth band of {args.still_margin:g} m (a single image), the clips without it (a video); row (b), "
                     "image features only, never (it must not learn of the body from meshing either)")
    else:
        notes.append(f"depth band {args.depth_margin:g} m for rows (c), (d), (h), (t) and the clips; row (b), image "
                     "features only, is meshed without it (it must not learn of the body from meshing either)")
    for group in groups:
        tables.append(clips_table(group))
        notes += temporal_lines(group)
    if clips_summary is not None:
        notes += [f"clip failed: {f}" for f in clips_summary.failed]
    tables.append(speed_table(stills_summary, clips_summary))
    notes.append("speed: wall seconds inside this process, from each run.json; every run loads MediaPipe, the body "
                 "model and the network again, which a still's fit and mesh times include; they grow with other "
                 "load on the machine")
    for table in tables:
        console.print(table.rich())
    for note in notes:
        console.print(note)
    if stills_summary.no_person or stills_summary.failed:
        console.print(f"no person: {', '.join(stills_summary.no_person) or '—'}; failed: {stills_summary.failed or '—'}")
    if not args.no_write:
        section = "accuracy" if args.depth_margin is None else f"accuracy-depth-margin-{args.depth_margin:g}"
        section += "" if args.split == "test" else f"-{args.split}"
        write_section(section, markdown(args, stills_summary, clips_summary, tables, notes))
        console.print(f"wrote the '{section}' section of {RESULTS}")


if __name__ == "__main__":
    main()
