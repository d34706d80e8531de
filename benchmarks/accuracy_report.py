"""What benchmarks/accuracy.py found, as tables for the terminal (rich) and for RESULTS.md (markdown)."""

from __future__ import annotations

from dataclasses import dataclass, field

from accuracy_runs import StageSeconds
from accuracy_scores import SequenceScores, SurfaceScore


@dataclass
class RowSummary:
    """One row of the stills table: a kind of prediction and its mean scores over the common stills."""

    key: str  # "a" … "e", "h", "t", "u"
    label: str
    source: str  # what made the meshes: "body/*.obj", or a checkpoint's description
    status: str | None = None  # "no checkpoint given", "not built"; None when measured
    meshes: int = 0  # stills where it produced a mesh
    camera: SurfaceScore | None = None
    aligned: SurfaceScore | None = None


@dataclass
class StillsSummary:
    rows: list[RowSummary]
    stills: int  # asked for
    reconstructed: int  # with a fitted body
    common: int  # with a mesh in every measured row: the means are over these
    no_person: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "name: reason"
    speed: StageSeconds | None = None  # median per still of the default checkpoint's runs


@dataclass
class ClipsSummary:
    clips: list[str]  # "name (motion, turn°)"
    frames: int
    window: int
    label: str = "all clips"
    single: SequenceScores | None = None  # per-frame, window 0, means over the clips
    fused: SequenceScores | None = None  # per-frame, window `window`
    canonical: SequenceScores | None = None  # one canonical person posed per frame
    body: SequenceScores | None = None  # the fitted body alone: how much of the change the fit brings
    failed: list[str] = field(default_factory=list)
    speed_single: StageSeconds | None = None
    speed_fused: StageSeconds | None = None
    speed_canonical: StageSeconds | None = None


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]

    def rich(self):
        from rich.table import Table as RichTable

        table = RichTable(title=self.title)
        for index, column in enumerate(self.columns):
            table.add_column(column, justify="left" if index == 0 else "right")
        for row in self.rows:
            table.add_row(*row)
        return table

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def reduction(before: float, after: float) -> float:
    """How much smaller `after` is than `before`, in % of `before` (negative: it grew)."""
    return 100.0 * (before - after) / before


def _cm(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def stills_table(summary: StillsSummary) -> Table:
    columns = ["prediction", "meshes", "Chamfer cm (camera)", "P2S cm (camera)", "normal cons. (camera)",
               "Chamfer cm (aligned)", "P2S cm (aligned)", "normal cons. (aligned)"]
    rows = []
    for row in summary.rows:
        if row.status is not None:
            rows.append([row.label, row.status] + ["—"] * (len(columns) - 2))
            continue
        cells = [row.label, f"{row.meshes} / {summary.reconstructed}"]
        for score in (row.camera, row.aligned):
            cells += [_cm(score.chamfer_cm), _cm(score.p2s_cm), f"{score.normal_consistency:.3f}"] if score \
                else ["—"] * 3
        rows.append(cells)
    return Table(
        f"Clothed meshes of {summary.common} synthetic test stills (means over stills meshed by every row)",
        columns, rows)


def improvements(summary: StillsSummary, default_row: str) -> list[str]:
    """Lines saying how much each network row improves Chamfer over the simpler rows, and what the oracle shows."""
    rows = {row.key: row for row in summary.rows if row.camera is not None}
    pairs = (("c", "a", "the fitted body alone"), ("c", "b", "image features only"),
             ("d", "a", "the fitted body alone"), ("d", "c", "no body SDF"),
             ("e", "a", "the fitted body alone"), ("e", "c", "occupancy_v1"))
    lines = []
    for key, other_key, name in pairs:
        target, other = rows.get(key), rows.get(other_key)
        if target is None or other is None:
            lines.append(f"({key}) vs ({other_key}) {name}: not measured")
            continue
        lines.append(f"({key}) vs ({other_key}) {name}: Chamfer "
                     f"{reduction(other.camera.chamfer_cm, target.camera.chamfer_cm):+.1f} % (camera frame), "
                     f"{reduction(other.aligned.chamfer_cm, target.aligned.chamfer_cm):+.1f} % (aligned) "
                     f"— positive: ({key}) is better")
    default, oracle = rows.get(default_row), rows.get("t")
    if default is not None and oracle is not None:
        lines.append(f"(t) the default network ({default_row}) given the true body: Chamfer "
                     f"{oracle.camera.chamfer_cm:.2f} cm (camera), {oracle.aligned.chamfer_cm:.2f} cm (aligned), "
                     f"against {default.camera.chamfer_cm:.2f} / {default.aligned.chamfer_cm:.2f} cm with the fitted "
                     "body: the rest of its error is the fit's")
    alone = rows.get("u")
    if oracle is not None and alone is not None:
        lines.append(f"(t) vs (u) the true body alone: Chamfer {reduction(alone.aligned.chamfer_cm, oracle.aligned.chamfer_cm):+.1f} %, "
                     f"P2S {reduction(alone.aligned.p2s_cm, oracle.aligned.p2s_cm):+.1f} % (aligned) — what the network "
                     "adds where the body is right")
    told = rows.get("h")
    if default is not None and told is not None:
        lines.append(f"(h) the fit told each person's height: Chamfer "
                     f"{reduction(default.camera.chamfer_cm, told.camera.chamfer_cm):+.1f} % (camera frame), "
                     f"{reduction(default.aligned.chamfer_cm, told.aligned.chamfer_cm):+.1f} % (aligned) against "
                     f"({default_row}) — the height fixes the body's size and distance, not its pose")
    return lines


def clips_table(summary: ClipsSummary) -> Table:
    rows = []
    sequences = (("fitted body alone", summary.body), ("per-frame, temporal window 0", summary.single),
                 (f"per-frame, temporal window {summary.window}", summary.fused), ("canonical", summary.canonical))
    for name, scores in sequences:
        if scores is None:
            rows.append([name] + ["—"] * 9)
            continue
        rows.append([name, str(scores.frames), f"{scores.excess_change_cm:.3f}", f"{scores.pred_change_cm:.3f}",
                     f"{scores.truth_change_cm:.3f}", _cm(scores.chamfer_cm), _cm(scores.chamfer_aligned_cm),
                     _cm(scores.p2s_aligned_cm), f"{scores.normal_aligned:.3f}", f"{100 * scores.far_share:.2f} %"])
    return Table(
        f"Temporal, {summary.label}: {len(summary.clips)} synthetic clip(s) × {summary.frames} frames "
        f"({', '.join(summary.clips)}; means over clips)",
        ["sequence", "frames", "excess change cm", "predicted change cm/frame", "true change cm/frame",
         "Chamfer cm (camera)", "Chamfer cm (aligned)", "P2S cm (aligned)", "normal cons. (aligned)", "far"],
        rows,
    )  # fmt: skip


def temporal_lines(summary: ClipsSummary) -> list[str]:
    lines = []
    single, fused, canonical, body = summary.single, summary.fused, summary.canonical, summary.body
    if single is not None and fused is not None:
        excess = (f"{reduction(single.excess_change_cm, fused.excess_change_cm):+.1f} % smaller"
                  if single.excess_change_cm > 0 else "none to reduce (0 without fusion)")
        chamfer = (f"{reduction(single.chamfer_cm, fused.chamfer_cm):+.1f} % smaller (camera frame), "
                   f"{reduction(single.chamfer_aligned_cm, fused.chamfer_aligned_cm):+.1f} % (aligned)")
        lines.append(f"{summary.label}, window {summary.window} vs 0: excess frame-to-frame change {excess}; "
                     f"Chamfer {chamfer}")
    if canonical is not None and fused is not None and body is not None:
        lines.append(
            f"{summary.label}, canonical vs per-frame window {summary.window}: Chamfer (aligned) "
            f"{reduction(fused.chamfer_aligned_cm, canonical.chamfer_aligned_cm):+.1f} % smaller, P2S (aligned) "
            f"{reduction(fused.p2s_aligned_cm, canonical.p2s_aligned_cm):+.1f} % smaller; excess change "
            f"{canonical.excess_change_cm:.3f} cm against the fitted body's {body.excess_change_cm:.3f}")
    return lines or [f"{summary.label}: not measured"]


def speed_table(stills: StillsSummary | None, clips: ClipsSummary | None) -> Table:
    runs = []
    if stills is not None and stills.speed is not None:
        runs.append(("still, per image (median)", stills.speed))
    if clips is not None:
        for name, speed in (("clip, per frame, per-frame window 0 (median)", clips.speed_single),
                            (f"clip, per frame, per-frame window {clips.window} (median)", clips.speed_fused),
                            ("clip, per frame, canonical (median)", clips.speed_canonical)):
            if speed is not None:
                runs.append((name, speed))
    parts = ("preprocess", "fit", "mesh", "network", "fusion", "surface", "output", "total")
    return Table(
        "Seconds per frame by stage (from each run.json; mesh = network + fusion + surface + output + loading)",
        ["run"] + [f"{part} s" for part in parts],
        [[name] + [f"{getattr(speed, part):.2f}" for part in parts] for name, speed in runs],
    )  # fmt: skip
