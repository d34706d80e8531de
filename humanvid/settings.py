"""What the user asked `humanvid reconstruct` for: the stages to run and every choice that shapes the outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from humanvid.constants import PHOTO_DEPTH_MARGIN, VIDEO_DEPTH_MARGIN
from preprocessing.video import FrameSelection

STAGES = ("preprocess", "fit", "mesh")  # in order; `until` names the last one to run
TOPOLOGIES = ("canonical", "per-frame")  # one mesh per video posed per frame, or each frame's own mesh
EXPORTS = ("obj", "glb", "html", "preview")  # the meshes' texture, avatar.glb, viewer.html, preview.mp4


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The user's choices; everything that changes outputs goes into the stages' fingerprints."""

    selection: FrameSelection = field(default_factory=FrameSelection)
    focal: float | None = None  # px, the full frame's focal length; None: DEFAULT_VERTICAL_FOV_DEG
    until: str = "mesh"  # last stage to run, one of STAGES
    device: str = "cpu"  # torch device of the network stages
    overwrite: bool = False  # replace outputs made with other settings instead of refusing
    body_model: str = "anny"
    model_path: Path | None = None  # SMPL / SMPL-X model file or folder
    exports: tuple[str, ...] = EXPORTS  # what the export stage writes, of EXPORTS
    checkpoint: Path | None = None  # occupancy network; None: the shipped default
    resolution: int = 256  # marching-cubes cells along the longest side of the person's box
    temporal_window: int = 2  # frames fused on either side of each frame
    height: float | None = None  # metres, the person's known height (fit stage)
    depth_margin: float | None = None  # metres; None: PHOTO_DEPTH_MARGIN for a single frame, else VIDEO_DEPTH_MARGIN
    topology: str = "canonical"  # one of TOPOLOGIES
    person: int | None = None  # None: the main person; N: person N of the first frame with people (people.png)
    all_people: bool = False  # every person of the first frame with people, each into OUT/<name>/person_K/

    def __post_init__(self):
        if self.until not in STAGES:
            raise ValueError(f"until must be one of {', '.join(STAGES)}, not {self.until!r}")
        if self.topology not in TOPOLOGIES:
            raise ValueError(f"topology must be one of {', '.join(TOPOLOGIES)}, not {self.topology!r}")
        if self.person is not None and self.person < 0:
            raise ValueError(f"person must be 0 or more, not {self.person}")
        if set(self.exports) - set(EXPORTS):
            raise ValueError(f"exports must be among {', '.join(EXPORTS)}, not {self.exports!r}")

    def as_dict(self) -> dict:
        return {
            "start": self.selection.start, "end": self.selection.end, "every": self.selection.every,
            "max_frames": self.selection.max_frames, "focal": self.focal, "until": self.until, "device": self.device,
            "body_model": self.body_model, "model_path": None if self.model_path is None else str(self.model_path),
            "exports": list(self.exports), "checkpoint": None if self.checkpoint is None else str(self.checkpoint),
            "resolution": self.resolution, "temporal_window": self.temporal_window, "height": self.height,
            "depth_margin": self.depth_margin, "topology": self.topology, "person": self.person,
            "all_people": self.all_people,
        }

    def runs(self, stage: str) -> bool:
        return STAGES.index(stage) <= STAGES.index(self.until)

    def checkpoint_path(self) -> Path:
        """The network file: the shipped default, a path, or a shipped file's bare name."""
        from humanvid.implicit.model.checkpoint import DEFAULT_CHECKPOINT, resolve_checkpoint

        return resolve_checkpoint(self.checkpoint) if self.checkpoint is not None else DEFAULT_CHECKPOINT

    def depth_margin_for(self, frame_count: int) -> float:
        """The depth band the mesh stage uses: the user's, or by default a band for a single frame only."""
        if self.depth_margin is not None:
            return self.depth_margin
        return PHOTO_DEPTH_MARGIN if frame_count == 1 else VIDEO_DEPTH_MARGIN
