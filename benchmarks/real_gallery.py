"""The real-footage gallery: every file in ../shared/data/real/ reconstructed, a contact sheet and a row each.

    python benchmarks/real_gallery.py [--inputs NAME ...] [--max-frames N] [--sheets DIR] [--no-all-people]

Runs the real command (`humanvid reconstruct FILE --export none`, the main person, the shipped network) on
each input into a fresh folder and reads its run.json: frames with the main person, the mesh's silhouette
against the person mask (IoU, mean over the meshed frames) and per visible body part (run.json's
`part_iou`, humanvid/evaluation/parts.py: mean over the frames where the part was visible), the share of
frames whose every visible part has IoU ≥ 0.7, the share of mesh vertices farther than 25 cm from the
fitted body, and wall seconds per frame of the whole command. --max-frames limits tennis.mp4 only (the
long one; default: every frame). Writes DIR/<name>.png per input (frames picked evenly: crop, mesh from
the camera and from the side, mesh over the crop; at most SHEET_BYTES) and, unless --no-all-people,
counts the people of skates.png that `--all-people` meshes separately. Writes the `real-gallery` section
of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from humanvid.atomic import write_bytes
from humanvid.evaluation.parts import PART_NAMES, WHOLE_IOU

from accuracy_scores import FAR
from common import REAL, REPO, humanvid, run_timed, write_section
from contact_sheet import compose, frame_row, load_video, pick_frames, png_bytes
from reconstruct import far_and_shared

SHEET_FRAMES = 4  # rows of a contact sheet
SHEET_TILE = 176  # px per tile
SHEET_BYTES = 300_000  # the most a contact sheet may weigh
LIMITED = "tennis.mp4"  # the input --max-frames applies to
CROWD = "skates.png"  # the input --all-people is counted on


@dataclass
class GalleryRow:
    name: str
    frames: int  # selected frames
    with_person: int  # frames with the main person
    meshed: int
    iou: float | None  # mean mesh-vs-mask IoU over meshed frames
    parts: dict[str, float]  # part → mean IoU over the meshed frames where it was visible
    whole: int  # meshed frames whose every visible part has IoU ≥ WHOLE_IOU
    scored: int  # meshed frames with part figures
    far: float  # share of mesh vertices farther than FAR from the fitted body
    seconds_per_frame: float
    error: str | None = None


def reconstruct(source: Path, out: Path, extra: list[str]) -> tuple[float, str | None]:
    """Run the command; (wall seconds, its one-line error or None)."""
    timed = run_timed(humanvid("reconstruct", source, "-o", out, "--export", "none", "-q", *extra))
    error = None if timed.returncode == 0 else (timed.stderr.strip().splitlines() or ["failed"])[-1]
    return timed.seconds, error


def measure(source: Path, out: Path, max_frames: int | None, sheets: Path) -> GalleryRow:
    extra = ["--max-frames", str(max_frames)] if max_frames and source.name == LIMITED else []
    seconds, error = reconstruct(source, out, extra)
    folder = out / source.stem
    manifest_path = folder / "run.json"
    if not manifest_path.exists():
        return GalleryRow(source.name, 0, 0, 0, None, {}, 0, 0, 0.0, seconds, error or "no run.json")
    manifest = json.loads(manifest_path.read_text())
    frames = manifest["frames"]
    meshed = [f for f in frames if f.get("mesh") == "ok"]
    parts = {}
    for name in PART_NAMES:
        values = [f["part_iou"][name] for f in meshed if name in f.get("part_iou", {})]
        if values:
            parts[name] = float(np.mean(values))
    scored = [f for f in meshed if "part_iou" in f]
    whole = sum(all(v >= WHOLE_IOU for v in f["part_iou"].values()) for f in scored)
    far, _ = far_and_shared(folder, [f["frame"] for f in meshed])
    if meshed:
        write_sheet(folder, sheets / f"{source.stem}.png")
    return GalleryRow(source.name, len(frames), sum(f["status"] == "ok" for f in frames), len(meshed),
                      float(np.mean([f["mesh_mask_iou"] for f in meshed])) if meshed else None, parts, whole,
                      len(scored), far, seconds / max(len(frames), 1), error)


def write_sheet(folder: Path, path: Path) -> int:
    """The input's contact sheet (crop, front, side, overlay per picked frame) at `path`; its size in bytes."""
    video = load_video(folder)
    rows = [frame_row(video, frame, SHEET_TILE, True) for frame in pick_frames(video.meshed, SHEET_FRAMES)]
    data = png_bytes(compose(rows), SHEET_BYTES)
    write_bytes(path, data)
    return len(data)


def count_all_people(out: Path) -> tuple[int, int, float, str | None]:
    """skates.png with --all-people: (people found, people meshed, wall seconds, the command's error)."""
    seconds, error = reconstruct(REAL / CROWD, out, ["--all-people"])
    folders = sorted((out / Path(CROWD).stem).glob("person_*"))
    meshed = sum(any((folder / "meshes").glob("*.obj")) for folder in folders)
    return len(folders), meshed, seconds, error


def table(rows: list[GalleryRow]) -> str:
    short = {"head": "head", "torso": "torso", "left_arm": "l arm", "right_arm": "r arm", "left_leg": "l leg",
             "right_leg": "r leg"}
    text = ("| input | frames with the main person | meshed | IoU | " + " | ".join(short[p] for p in PART_NAMES)
            + f" | frames all parts ≥ {WHOLE_IOU} | far > {FAR * 100:.0f} cm | s / frame |\n")
    text += "|---|---|---|---|" + "---|" * len(PART_NAMES) + "---|---|---|\n"
    for row in rows:
        parts = " | ".join(f"{row.parts[p]:.2f}" if p in row.parts else "—" for p in PART_NAMES)
        iou = f"{row.iou:.3f}" if row.iou is not None else "—"
        whole = f"{row.whole} / {row.scored}" if row.scored else "—"
        note = f" (failed: {row.error})" if row.error else ""
        text += (f"| `{row.name}`{note} | {row.with_person} / {row.frames} | {row.meshed} | {iou} | {parts} | "
                 f"{whole} | {100 * row.far:.2f} % | {row.seconds_per_frame:.2f} |\n")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", nargs="+", default=None, help="file names in ../shared/data/real/ (default: all)")
    parser.add_argument("--max-frames", type=int, default=None, help=f"frames of {LIMITED} (default: all)")
    parser.add_argument("--sheets", type=Path, default=REPO / "docs" / "gallery", help="folder of the contact sheets")
    parser.add_argument("--no-all-people", action="store_true", help=f"skip the --all-people count on {CROWD}")
    args = parser.parse_args(argv)
    command = "python benchmarks/real_gallery.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    sources = [REAL / name for name in args.inputs] if args.inputs else sorted(p for p in REAL.iterdir() if p.is_file())
    args.sheets.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for source in sources:
            rows.append(measure(source, Path(scratch) / source.stem, args.max_frames, args.sheets))
            print(table(rows[-1:]), file=sys.stderr, flush=True)
        crowd = None if args.no_all_people else count_all_people(Path(scratch) / "all-people")
    scored = sum(r.scored for r in rows)
    whole = sum(r.whole for r in rows)
    body = (f"## Real-footage gallery: every file in `../shared/data/real/`\n\n`{command.strip()}` "
            f"(`--export none`; contact sheets in `{args.sheets.relative_to(REPO) if args.sheets.is_relative_to(REPO) else args.sheets}/`)\n\n"
            f"IoU: the mesh's silhouette against the person mask, mean over the meshed frames; head … r leg: each "
            f"visible part's IoU against its region of the mask (pixels nearest its skeleton), mean over the frames "
            f"where it was visible (landmarks seen and inside the frame); far: the share of mesh vertices more than "
            f"{FAR * 100:.0f} cm from the fitted body; s / frame: wall time of the whole command per frame, on a "
            f"machine shared with other jobs (noisy).\n\n" + table(rows)
            + f"\nEvery visible part whole (IoU ≥ {WHOLE_IOU}): {whole} / {scored} meshed frames"
            + (f" ({100 * whole / scored:.1f} %; target ≥ 95 %)" if scored else "") + ".\n")
    if crowd is not None:
        found, meshed, seconds, error = crowd
        body += (f"\n`{CROWD}` with `--all-people`: {meshed} of {found} people meshed separately "
                 f"(target ≥ 8), {seconds:.0f} s" + (f"; first error: {error}" if error else "") + ".\n")
    print(body)
    write_section("real-gallery", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
