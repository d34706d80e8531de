"""Reconstructions for benchmarks/accuracy.py through the real pipeline (humanvid.pipeline.run_job, in-process).

Each input is preprocessed and fitted once, into ``OUT/fit/<name>/``; every variant (a checkpoint,
a temporal window) then starts from a copy of that folder in ``OUT/<variant>/<name>/`` and runs
the mesh stage only, so all variants mesh the very same fitted body. Reruns resume: a variant
whose run.json matches its settings is not computed again.
"""

from __future__ import annotations

import json
import shutil
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from humanvid.constants import VIDEO_DEPTH_MARGIN
from humanvid.inputs import Job
from humanvid.pipeline import run_job
from humanvid.settings import Settings

NO_PERSON = "no person found"


@dataclass(frozen=True)
class Variant:
    """One way of meshing: a folder name, a checkpoint, a temporal window and a depth band (--depth-margin)."""

    name: str
    checkpoint: Path
    temporal_window: int = 0
    depth_margin: float = VIDEO_DEPTH_MARGIN
    topology: str = "per-frame"  # or "canonical": one mesh per video, posed per frame
    exports: tuple[str, ...] = ()  # what the export stage writes (humanvid.settings.EXPORTS); none by default


@dataclass
class Outcome:
    """What the pipeline gave for one input: its fitted folder and a folder per variant, or why not."""

    name: str
    fitted: Path | None = None
    variants: dict[str, Path] = field(default_factory=dict)
    error: str | None = None

    @property
    def no_person(self) -> bool:
        return self.error is not None and NO_PERSON in self.error


def settings_for(focal: float, resolution: int, variant: Variant | None = None, height: float | None = None) -> Settings:
    if variant is None:
        return Settings(until="fit", focal=focal, resolution=resolution, temporal_window=0, height=height, exports=())
    return Settings(until="mesh", focal=focal, checkpoint=variant.checkpoint, resolution=resolution,
                    temporal_window=variant.temporal_window, height=height, depth_margin=variant.depth_margin,
                    topology=variant.topology, exports=variant.exports)


def reconstruct(source: Path, name: str, focal: float, out: Path, variants: list[Variant],
                resolution: int = 256, height: float | None = None) -> Outcome:
    """Fit `source` once (told the person's `height` in metres, if given, as --height does), then
    mesh it once per variant; errors are returned in the outcome."""
    outcome = Outcome(name)
    fitted = run_job(Job(source, name), out / "fit", settings_for(focal, resolution, height=height))
    if fitted.error is not None:
        outcome.error = fitted.error
        return outcome
    outcome.fitted = fitted.out_dir
    for variant in variants:
        folder = out / variant.name / name
        if not (folder / "run.json").exists():
            shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(fitted.out_dir, folder, ignore=shutil.ignore_patterns("meshes"))
        meshed = run_job(Job(source, name), out / variant.name, settings_for(focal, resolution, variant, height))
        if meshed.error is not None:
            outcome.error = f"{variant.name}: {meshed.error}"
            return outcome
        outcome.variants[variant.name] = meshed.out_dir
    return outcome


def mesh_path(folder: Path, frame: int) -> Path:
    return folder / "meshes" / f"{frame:06d}.obj"


def body_path(folder: Path, frame: int) -> Path:
    return folder / "body" / f"{frame:06d}.obj"


@dataclass
class StageSeconds:
    """Seconds per frame of each stage of one run, from its run.json."""

    preprocess: float
    fit: float
    mesh: float
    network: float
    fusion: float
    surface: float
    output: float

    @classmethod
    def from_run(cls, folder: Path) -> StageSeconds:
        run = json.loads((folder / "run.json").read_text())
        stages = run["stages"]
        frames = max(run["summary"]["frames_total"], 1)
        meshed = max(run["summary"]["frames_ok"], 1)
        preprocess = sum(v for k, v in stages["preprocess"].items() if k.endswith("_s"))
        mesh = stages["mesh"]
        return cls(preprocess / frames, stages["fit"]["seconds_per_frame"], mesh["seconds_per_frame"],
                   *(mesh[f"seconds_{part}"] / meshed for part in ("network", "fusion", "surface", "output")))

    @property
    def total(self) -> float:
        return self.preprocess + self.fit + self.mesh

    @classmethod
    def median(cls, runs: list[StageSeconds]) -> StageSeconds | None:
        if not runs:
            return None
        return cls(*(statistics.median(getattr(r, name) for r in runs) for name in cls.__dataclass_fields__))
